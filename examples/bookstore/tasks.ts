/**
 * The bookstore's task queue: work that should not run inside a request. Today one task, the sales
 * report; `POST /reports/sales` publishes it and answers 202, `GET /reports/{id}` shows its state.
 *
 * Tasks travel through a SQLite file beside the database (`BOOKSTORE_TASKS_URL` chooses another
 * broker), so no server is needed: `npm start` runs a small worker inside the web process, and
 * `laminar worker dist/examples/bookstore/worker.js` runs more of them in processes of their own.
 *
 * @module
 */
import BetterSqlite3 from "better-sqlite3";
import { dirname, join } from "node:path";
import { TaskQueue } from "../../lib/tasks/task-queue.js";
import { connectBackend, connectBroker } from "../../lib/tasks/connect.js";
import { buildSalesReport, type SalesReport } from "./sales.js";

/** The queue the bookstore's tasks go to, so a worker can be dedicated to them (`--queues reports`). */
export const REPORTS_QUEUE = "reports";

/** Options for {@link createBookstoreTasks}. */
export interface BookstoreTasksOptions {
  /** The bookstore's SQLite file, which the report task reads. */
  databaseFile: string;
  /** Broker and result backend; default `BOOKSTORE_TASKS_URL`, else `sqlite://<tasks.db beside the database>`. */
  url?: string;
}

/** The bookstore's queue and its tasks. */
export interface BookstoreTasks {
  queue: TaskQueue;
  /** Builds the sales report (the best `top` sellers) and returns it as the task's result. */
  salesReport: ReturnType<typeof defineSalesReport>;
}

/** The default broker URL: `tasks.db` beside the bookstore's database file. */
export function defaultTasksUrl(databaseFile: string): string {
  return `sqlite://${join(dirname(databaseFile), "tasks.db")}`;
}

function defineSalesReport(queue: TaskQueue, databaseFile: string) {
  return queue.task(
    "bookstore.sales_report",
    (top: number): SalesReport => {
      // Its own read-only connection: the task may run in another process than the web app.
      const connection = new BetterSqlite3(databaseFile, { readonly: true, fileMustExist: true });
      try {
        connection.pragma("busy_timeout = 5000");
        return buildSalesReport(connection, top);
      } finally {
        connection.close();
      }
    },
    // A report is safe to build twice: acknowledged after it ran, so a worker killed mid-report
    // leaves it to another (at-least-once). A locked database is worth a retry, with backoff.
    { queue: REPORTS_QUEUE, acksLate: true, timeLimit: 120, softTimeLimit: 100, maxRetries: 3, retryBackoff: true, autoretryFor: ["SqliteError"] },
  );
}

/** Creates the bookstore's queue (opening its broker and backend) and defines its tasks on it. */
export function createBookstoreTasks(options: BookstoreTasksOptions): BookstoreTasks {
  const url = options.url ?? process.env.BOOKSTORE_TASKS_URL ?? defaultTasksUrl(options.databaseFile);
  const queue = new TaskQueue({ broker: connectBroker(url), backend: connectBackend(url) });
  return { queue, salesReport: defineSalesReport(queue, options.databaseFile) };
}
