/**
 * The `async` pool: runs tasks on the worker's own event loop, as many at once as the worker lets
 * it (I/O-bound work: calling an API, sending mail). Nothing is isolated: a task that burns the CPU
 * blocks the loop, leases stop being renewed and heartbeats stop; use the process pool for that.
 *
 * @module
 */
import { NotRegistered, SoftTimeLimitExceeded, TimeLimitExceeded } from "../../errors.js";
import type { TaskMessage } from "../message.js";
import type { TaskRegistry } from "../registry.js";
import type { ExecutionControl, TaskPool } from "./pool.js";
import { createTaskContext } from "./task-context.js";

/** Thrown by {@link AsyncPool.execute} once the pool is closed. */
export class PoolClosedError extends Error {
  constructor() {
    super("The task pool is closed");
    this.name = "PoolClosedError";
  }
}

interface Execution {
  reject(reason: unknown): void;
}

/**
 * Runs `registry.lookup(name).run(args, kwargs, ctx)` where `ctx.signal` aborts on the soft time
 * limit (reason: SoftTimeLimitExceeded) and when the worker aborts `control.signal` (revoke with
 * terminate, shutdown), with that signal's reason.
 *
 * The hard time limit and `control.signal` make `execute` reject at once (TimeLimitExceeded, or the
 * control reason), and the task's signal is aborted too, but the task's promise is only abandoned:
 * JavaScript cannot stop a function from the outside, so a task that ignores its signal keeps
 * running (and a CPU-bound one keeps the loop busy). Only the process pool really stops CPU work,
 * by killing the child.
 *
 * @example
 * const worker = new Worker(queue, { pool: new AsyncPool(queue), concurrency: 32 });
 */
export class AsyncPool implements TaskPool {
  readonly kind = "async" as const;
  private closed = false;
  private readonly executions = new Set<Execution>();

  constructor(private readonly registry: TaskRegistry) {}

  /** Executions running now. */
  get size(): number {
    return this.executions.size;
  }

  execute(message: TaskMessage, control: ExecutionControl): Promise<unknown> {
    if (this.closed) return Promise.reject(new PoolClosedError());
    const task = this.registry.lookup(message.task);
    if (task === undefined) return Promise.reject(new NotRegistered(message.task));
    const { signal, softTimeLimitMs, hardTimeLimitMs } = control;
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<unknown>((resolve, reject) => {
      // Without limits the task sees the control signal itself: no controller, no timer, no
      // listener beyond the one that lets execute() give up on a task ignoring its signal.
      const limited = softTimeLimitMs !== undefined || hardTimeLimitMs !== undefined;
      const own = limited ? new AbortController() : undefined;
      let softTimer: NodeJS.Timeout | undefined;
      let hardTimer: NodeJS.Timeout | undefined;
      let settled = false;
      const execution: Execution = { reject: (reason) => fail(reason) };
      const finish = (): void => {
        settled = true;
        if (softTimer !== undefined) clearTimeout(softTimer);
        if (hardTimer !== undefined) clearTimeout(hardTimer);
        signal.removeEventListener("abort", onAbort);
        this.executions.delete(execution);
      };
      const fail = (reason: unknown): void => {
        if (settled) return;
        finish();
        if (own !== undefined && !own.signal.aborted) own.abort(reason);
        reject(reason);
      };
      const onAbort = (): void => fail(signal.reason);
      if (softTimeLimitMs !== undefined && own !== undefined) {
        softTimer = setTimeout(() => {
          softTimer = undefined;
          if (!own.signal.aborted) own.abort(new SoftTimeLimitExceeded(softTimeLimitMs / 1000));
        }, softTimeLimitMs);
      }
      if (hardTimeLimitMs !== undefined) {
        hardTimer = setTimeout(() => {
          hardTimer = undefined;
          fail(new TimeLimitExceeded(hardTimeLimitMs / 1000));
        }, hardTimeLimitMs);
      }
      signal.addEventListener("abort", onAbort, { once: true });
      this.executions.add(execution);
      let running: Promise<unknown>;
      try {
        running = Promise.resolve(task.run(message.args, message.kwargs, createTaskContext(message, own?.signal ?? signal)));
      } catch (error) {
        // A run() that throws synchronously (not an async function) fails like one that rejects.
        running = Promise.reject(error);
      }
      running.then(
        (value) => {
          if (settled) return;
          finish();
          resolve(value);
        },
        (error: unknown) => {
          if (settled) return;
          finish();
          reject(error);
        },
      );
    });
  }

  /** Rejects every running execution with PoolClosedError (their tasks' signals abort) and refuses new ones. */
  async close(): Promise<void> {
    this.closed = true;
    const error = new PoolClosedError();
    for (const execution of [...this.executions]) execution.reject(error);
  }
}
