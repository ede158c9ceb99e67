/**
 * What `laminar worker` runs: the settings the CLI parses and a supervised task worker process
 * reads back from its environment. One plain object, so it crosses to worker processes as JSON.
 *
 * @module
 */
import { DEFAULT_QUEUE } from "../message.js";

/** The environment variable that carries the {@link TaskWorkerConfig} (as JSON) to a supervised task worker. */
export const TASK_WORKER_CONFIG_ENV = "LAMINAR_TASK_WORKER_CONFIG";

/** The settings of one `laminar worker`. Times in seconds, as Celery's and Gunicorn's settings are. */
export interface TaskWorkerConfig {
  /** The registry to run: `path/to/module.js[:export]` (default export `tasks`), from the working directory. */
  target: string;
  /** Queues to consume, in no particular order (priority decides within what one reserve returns). */
  queues: string[];
  /** `async`: tasks on the worker's event loop; `process`: each in a child process (CPU-bound work, killable). */
  pool: "async" | "process";
  /** Tasks running at once in one worker process (children of the process pool). */
  concurrency: number;
  /** Worker processes. Above 1 they run under the supervisor's master. */
  processes: number;
  /** How long a graceful stop waits for running tasks before aborting them. */
  gracefulTimeout: number;
  /** Supervised workers: one whose event loop is blocked this long is killed and replaced. 0 disables. */
  timeout: number;
  /** Replace a worker process (async pool) or a pool child (process pool) after this many tasks; 0: never. */
  maxTasksPerChild: number;
  /** Replace it above this resident memory, in MB; 0: never. */
  maxMemoryPerChild: number;
  /** The lease of a reserved task, renewed while it runs; undefined: the worker's default. */
  visibilityTimeout?: number;
  /** pino level of the worker's logs. */
  logLevel: string;
  /** Also run the beat scheduler in each worker process (the broker's lock makes one lead). */
  beat: boolean;
}

/** The default concurrency of the async pool (I/O-bound tasks: many at once on one loop). */
export const DEFAULT_ASYNC_CONCURRENCY = 16;

/** Defaults, as `laminar worker --help` prints them (`concurrency` depends on the pool and the machine). */
export const DEFAULT_TASK_WORKER_CONFIG: Readonly<Omit<TaskWorkerConfig, "target" | "concurrency">> = Object.freeze({
  queues: [DEFAULT_QUEUE],
  pool: "async",
  processes: 1,
  gracefulTimeout: 30,
  timeout: 30,
  maxTasksPerChild: 0,
  maxMemoryPerChild: 0,
  logLevel: "info",
  beat: false,
});

/** Bytes in one MB of `maxMemoryPerChild`. */
export const MB = 1024 * 1024;

/**
 * True when the config needs the supervisor's master: several processes, or a per-process limit on
 * the async pool (only a master can replace the retiring process; the process pool recycles its
 * own children instead, as Celery's prefork pool does).
 */
export function taskWorkerNeedsMaster(config: TaskWorkerConfig): boolean {
  return config.processes > 1 || (config.pool === "async" && (config.maxTasksPerChild > 0 || config.maxMemoryPerChild > 0));
}
