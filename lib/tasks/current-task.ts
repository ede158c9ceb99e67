/**
 * `currentTask()`: what a running task sees of itself (Celery's `self.request`), without threading a
 * context parameter through the task's signature. The worker's `RegisteredTask.run` (and a direct
 * `task.run(...)`) enter the context through {@link runInTaskContext}; AsyncLocalStorage carries it
 * across every `await` inside the task, and two tasks running at once on one event loop each see
 * their own.
 *
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { TaskContext } from "./registry.js";

const storage = new AsyncLocalStorage<TaskContext>();

/**
 * The context of the task running now.
 *
 * @throws Error when called outside a running task (at module top level, in a route handler): a
 * silent `undefined` would surface much later as "cannot read property id of undefined".
 *
 * @example
 * const report = queue.task("reports.build", async (month: string) => {
 *   const { id, signal, retries } = currentTask();
 *   await render(month, { signal });
 *   return { id, retries };
 * });
 */
export function currentTask(): TaskContext {
  const context = storage.getStore();
  if (context === undefined) throw new Error("currentTask() was called outside a running task");
  return context;
}

/** The context of the task running now, or undefined outside one (for code that runs both ways). */
export function currentTaskOrUndefined(): TaskContext | undefined {
  return storage.getStore();
}

/** Runs `fn` with `context` as {@link currentTask}'s answer (inside `fn` and everything it awaits). */
export function runInTaskContext<T>(context: TaskContext, fn: () => T): T {
  return storage.run(context, fn);
}
