/**
 * The seam between the publishing side (`TaskQueue`, canvas) and the worker: what a worker needs
 * to run a task by name. `TaskQueue` implements {@link TaskRegistry}; the worker only depends on
 * this file, the broker and the result backend contracts.
 *
 * @module
 */
import type { Broker } from "./broker.js";
import type { ResultBackend } from "./result-backend.js";
import type { TaskOptions } from "./task-options.js";

/** What a running task can see of itself (Celery's `self.request`), through `currentTask()`. */
export interface TaskContext {
  id: string;
  name: string;
  retries: number;
  rootId: string;
  parentId?: string;
  groupId?: string;
  /** Aborts on the soft time limit (reason: a `SoftTimeLimitExceeded`), on revoke-with-terminate, and on worker shutdown past its graceful timeout. */
  signal: AbortSignal;
  /**
   * Asks for a retry: returns the {@link Retry} to throw (`throw ctx.retry({ countdown: 5 })`).
   * Past `maxRetries` the task fails with `exc` (or MaxRetriesExceededError).
   */
  retry(options?: { countdown?: number; eta?: number; exc?: Error; maxRetries?: number | null }): Retry;
}

/** Thrown (via `ctx.retry()`) to ask the worker for a retry. */
export class Retry extends Error {
  readonly countdown?: number;
  readonly eta?: number;
  readonly exc?: Error;
  readonly maxRetries?: number | null;

  constructor(options: { countdown?: number; eta?: number; exc?: Error; maxRetries?: number | null } = {}) {
    super(options.exc !== undefined ? `Retry: ${options.exc.message}` : "Retry requested");
    this.name = "Retry";
    this.countdown = options.countdown;
    this.eta = options.eta;
    this.exc = options.exc;
    this.maxRetries = options.maxRetries;
  }
}

/** A task as the worker runs it. */
export interface RegisteredTask {
  name: string;
  /** The options given at definition (defaults not applied). */
  options: TaskOptions;
  /**
   * Runs the task's function: validates `args` when the task has a schema (a validation failure
   * throws a `TaskArgumentsError`, not retried), then calls it inside `context` so that
   * `currentTask()` returns it. Resolves with the return value (JSON).
   */
  run(args: unknown[], kwargs: Record<string, unknown>, context: TaskContext): Promise<unknown>;
}

/** What a worker is given: the registered tasks and where they travel. */
export interface TaskRegistry {
  readonly broker: Broker;
  readonly backend: ResultBackend;
  /** A registered task, or undefined (the worker stores FAILURE with NotRegistered and dead-letters it). */
  lookup(name: string): RegisteredTask | undefined;
  /** The registered names, for `laminar worker`'s banner and inspect. */
  names(): string[];
}
