/**
 * The task module `npm run bench:tasks` runs: one no-op task on the broker and backend named by
 * `TASKS_URL` (a SQLite file by default). The worker process loads it with `laminar worker`, the
 * publisher process imports it to publish, so both sides agree on names and options.
 *
 * @module
 */
import { TaskQueue } from "../../lib/tasks/task-queue.js";
import { connectBackend, connectBroker } from "../../lib/tasks/connect.js";

const url = process.env.TASKS_URL ?? "sqlite://bench-tasks.db";

/** The registry `laminar worker dist/bench/tasks/noop-tasks.js` serves. */
export const tasks = new TaskQueue({ broker: connectBroker(url), backend: connectBackend(url) });

/** Does nothing: what is measured is the queue's own cost per task. */
export const noop = tasks.task("bench.noop", (index: number) => index);
