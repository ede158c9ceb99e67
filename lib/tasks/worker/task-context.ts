/**
 * Builds the {@link TaskContext} a task sees through `currentTask()`. Shared by the async pool and
 * the process pool's child, so a task sees the same context wherever it runs.
 *
 * @module
 */
import type { TaskMessage } from "../message.js";
import { Retry, type TaskContext } from "../registry.js";

/** The context of one execution of `message`; `signal` is the task's own (soft limit, terminate). */
export function createTaskContext(message: TaskMessage, signal: AbortSignal): TaskContext {
  return {
    id: message.id,
    name: message.task,
    retries: message.retries,
    rootId: message.rootId,
    parentId: message.parentId,
    groupId: message.group?.id,
    signal,
    // Only builds the Retry: whether one more is allowed is the worker's decision (it knows maxRetries).
    retry: (options) => new Retry(options),
  };
}
