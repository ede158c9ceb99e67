/**
 * The bookstore's task queue: work that should not run inside a request. Today one task, the sales
 * report; `POST /reports/sales` publishes it and answers 202, `GET /reports/{id}` shows its state.
 *
 * Tasks travel through a SQLite file beside the database (`BOOKSTORE_TASKS_URL` chooses another
 * broker), so no server is needed: `npm start` runs a small worker inside the web process, and
 * `laminar worker dist/examples/bookstore/worker.js` runs more of them in processes of their own.
 * The report reads the store `DATABASE_URL` names (SQLite or PostgreSQL) on a connection of its own.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { TaskQueue } from "../../lib/tasks/task-queue.js";
import { connectBackend, connectBroker } from "../../lib/tasks/connect.js";
import type { SalesReport } from "./sales.js";
import { buildSalesReport } from "./store/sales-report.js";
import { DatabaseUnavailable } from "./store/database-unavailable.js";
import type { StoreLocation } from "./store/store-location.js";

/** The queue the bookstore's tasks go to, so a worker can be dedicated to them (`--queues reports`). */
export const REPORTS_QUEUE = "reports";

/** Options for {@link createBookstoreTasks}. */
export interface BookstoreTasksOptions {
  /** The store the report task reads. */
  database: StoreLocation;
  /** Broker and result backend, e.g. from {@link tasksUrlFrom}. */
  url: string;
}

/** The bookstore's queue and its tasks. */
export interface BookstoreTasks {
  queue: TaskQueue;
  /** Builds the sales report (the best `top` sellers) and returns it as the task's result. */
  salesReport: ReturnType<typeof defineSalesReport>;
}

/** The default broker URL: `tasks.db` beside the bookstore's (SQLite) database file. */
export function defaultTasksUrl(databaseFile: string): string {
  return `sqlite://${join(dirname(databaseFile), "tasks.db")}`;
}

/** The broker URL: `explicit`, else `BOOKSTORE_TASKS_URL`, else {@link defaultTasksUrl} of `databaseFile`. */
export function tasksUrlFrom(explicit: string | undefined, databaseFile: string): string {
  return explicit ?? process.env.BOOKSTORE_TASKS_URL ?? defaultTasksUrl(databaseFile);
}

function defineSalesReport(queue: TaskQueue, database: StoreLocation) {
  return queue.task(
    "bookstore.sales_report",
    // Its own connection: the task may run in another process than the web app.
    (top: number): Promise<SalesReport> => buildSalesReport(database, top),
    // A report is safe to build twice: acknowledged after it ran, so a worker killed mid-report
    // leaves it to another (at-least-once). A locked SQLite file, or a PostgreSQL server with no
    // connection to spare, is worth a retry, with backoff.
    {
      queue: REPORTS_QUEUE,
      acksLate: true,
      timeLimit: 120,
      softTimeLimit: 100,
      maxRetries: 3,
      retryBackoff: true,
      autoretryFor: ["SqliteError", DatabaseUnavailable],
    },
  );
}

/** Creates the bookstore's queue (opening its broker and backend) and defines its tasks on it. */
export function createBookstoreTasks(options: BookstoreTasksOptions): BookstoreTasks {
  const queue = new TaskQueue({ broker: connectBroker(options.url), backend: connectBackend(options.url) });
  return { queue, salesReport: defineSalesReport(queue, options.database) };
}
