/**
 * The bookstore's tasks for `laminar worker`: `laminar worker dist/examples/bookstore/worker.js
 * --queues reports`. Same database and broker defaults as `npm start` (`DATABASE_URL`,
 * `BOOKSTORE_DB`, `BOOKSTORE_TASKS_URL`), so the web process publishes and this worker runs.
 *
 * @module
 */
import { defaultDatabaseFile } from "./app.js";
import { createBookstoreTasks, tasksUrlFrom } from "./tasks.js";
import { resolveStoreLocation } from "./store/store-location.js";

const localFile = process.env.BOOKSTORE_DB ?? defaultDatabaseFile();

/** The registry the worker command loads (its default export name is `tasks`). */
export const tasks = createBookstoreTasks({
  database: resolveStoreLocation({ defaultFile: defaultDatabaseFile() }),
  url: tasksUrlFrom(undefined, localFile),
}).queue;
