/**
 * The pool contract: how a worker runs one task. The `async` pool runs tasks on the worker's own
 * event loop (I/O-bound work, many at once); the `process` pool runs each in a child process so a
 * CPU-bound task does not block the loop and a hard time limit can kill it (Celery's prefork).
 *
 * @module
 */
import type { TaskMessage } from "../message.js";

/** Limits and stop signals for one execution. */
export interface ExecutionControl {
  /** Aborting stops the task: revoke with terminate, or shutdown past the graceful timeout. The reason is the error to fail with. */
  signal: AbortSignal;
  /** Soft limit in ms: the task's own AbortSignal aborts with SoftTimeLimitExceeded. */
  softTimeLimitMs?: number;
  /** Hard limit in ms: the execution rejects with TimeLimitExceeded (and, in the process pool, its child is killed). */
  hardTimeLimitMs?: number;
}

/** Runs tasks. */
export interface TaskPool {
  readonly kind: "async" | "process";
  /**
   * Runs `message`'s task and resolves with its return value, or rejects with what it threw (a
   * `Retry` included, rebuilt when it crossed a process boundary) or with TimeLimitExceeded.
   */
  execute(message: TaskMessage, control: ExecutionControl): Promise<unknown>;
  /** Stops the pool: running executions are stopped (children killed); later `execute` calls reject. */
  close(): Promise<void>;
}
