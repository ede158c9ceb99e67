/**
 * Starts what one `laminar worker` process runs: the pool (the process pool's children are forked
 * and must load the registry before anything is consumed), the {@link Worker}, and the beat
 * scheduler when asked; and stops them in order. Shared by the single-process CLI and the
 * supervised worker entry, so both run the same thing.
 *
 * @module
 */
import { Worker } from "../worker/worker.js";
import { ProcessPool } from "../worker/process-pool.js";
import type { TaskPool } from "../worker/pool.js";
import type { TaskRegistry } from "../registry.js";
import { closeRegistry } from "../../cli/load-registry.js";
import type { Beat } from "../beat/beat.js";
import { createBeat } from "./start-beat.js";
import type { Logger } from "../../logger.js";
import { MB, type TaskWorkerConfig } from "./task-worker-config.js";

/**
 * The process pool's children could not load the registry (the CLI exits with the load-error code,
 * as when the worker itself cannot load it). The message is the children's reason.
 */
export class PoolStartError extends Error {
  override get name(): string {
    return "PoolStartError";
  }
}

/** What this module uses of a worker; `Worker` is one, tests pass fakes. */
export interface TaskWorkerHandle {
  readonly id: string;
  /** Tasks finished so far. */
  readonly processed: number;
  start(): unknown;
  stop(options: { gracefulTimeoutMs: number }): Promise<void>;
  /** The tasks running now (laminar's Worker has it; a test double may not). */
  running?(): ReadonlyArray<{ task: string; startedAt: number }>;
}

/** The options {@link startTaskWorker} gives the worker (a subset of `Worker`'s). */
export interface TaskWorkerOptions {
  queues: string[];
  concurrency: number;
  pool?: TaskPool;
  visibilityTimeoutMs?: number;
  logger: Logger;
  maxTasks?: number;
  onMaxTasks?: () => void;
}

/** Builds the worker; injectable for tests. */
export type CreateTaskWorker = (registry: TaskRegistry, options: TaskWorkerOptions) => TaskWorkerHandle;

/** The default: laminar's {@link Worker}. */
export const createWorker: CreateTaskWorker = (registry, options) => new Worker(registry, options);

/** Options of {@link startTaskWorker}. */
export interface StartTaskWorkerOptions {
  logger: Logger;
  /** Directory the target is relative to (the process pool's children import it again). */
  cwd: string;
  /** Called once when the worker finished `maxTasksPerChild` tasks (async pool: the process retires). */
  onMaxTasks?: () => void;
  createWorker?: CreateTaskWorker;
}

/** A started worker and how to stop it. */
export interface RunningTaskWorker {
  readonly worker: TaskWorkerHandle;
  readonly pool: TaskPool | undefined;
  /** The periodic scheduler, with `--beat`. */
  readonly beat: Beat | undefined;
  /**
   * Stops consuming, lets running tasks finish within `gracefulTimeoutMs` (then aborts them),
   * closes the pool and the registry. Safe to call twice.
   */
  stop(gracefulTimeoutMs: number): Promise<void>;
}

/**
 * Starts the pool, the worker and (with `--beat`) the scheduler for `config`. Rejects with
 * {@link PoolStartError} when the process pool's children cannot load the registry, with a
 * RegistryLoadError when `--beat` finds no valid schedule (the caller exits with the load-error
 * code), with the worker's error when it cannot start; what was started is closed first.
 */
export async function startTaskWorker(config: TaskWorkerConfig, registry: TaskRegistry, options: StartTaskWorkerOptions): Promise<RunningTaskWorker> {
  // First: a missing or invalid schedule fails before anything is started.
  const beat = config.beat ? await createBeat(config.target, registry, { cwd: options.cwd, logger: options.logger }) : undefined;
  let pool: ProcessPool | undefined;
  if (config.pool === "process") {
    pool = new ProcessPool({
      target: config.target,
      cwd: options.cwd,
      size: config.concurrency,
      // With the process pool the limits recycle the children that run the tasks (Celery's prefork).
      maxTasksPerChild: config.maxTasksPerChild,
      maxMemoryPerChild: config.maxMemoryPerChild * MB,
      logger: options.logger,
    });
    try {
      await pool.start();
    } catch (error) {
      await pool.close();
      throw new PoolStartError((error as Error).message, { cause: error });
    }
  }
  const worker = (options.createWorker ?? createWorker)(registry, {
    queues: config.queues,
    concurrency: config.concurrency,
    ...(pool !== undefined ? { pool } : {}),
    ...(config.visibilityTimeout !== undefined ? { visibilityTimeoutMs: config.visibilityTimeout * 1000 } : {}),
    logger: options.logger,
    // With the async pool the limit is the process's own: it asks its master for a replacement.
    ...(config.pool === "async" && config.maxTasksPerChild > 0 ? { maxTasks: config.maxTasksPerChild, onMaxTasks: options.onMaxTasks } : {}),
  });
  try {
    await worker.start();
    await beat?.start();
  } catch (error) {
    await worker.stop({ gracefulTimeoutMs: 0 }).catch(() => {});
    await pool?.close();
    throw error;
  }
  let stopping: Promise<void> | undefined;
  return {
    worker,
    pool,
    beat,
    stop(gracefulTimeoutMs) {
      stopping ??= (async () => {
        try {
          // The scheduler first: it gives its lock up, so another process's takes over at once.
          await beat?.stop();
          await worker.stop({ gracefulTimeoutMs });
        } finally {
          await pool?.close();
          await closeRegistry(registry);
        }
      })();
      return stopping;
    },
  };
}
