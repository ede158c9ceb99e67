/**
 * A task's states, with Celery's names, so a dashboard or a Python client reading laminar's results
 * sees the words it knows.
 *
 * @module
 */

/** Every state a task can be in. */
export type TaskState = "PENDING" | "RECEIVED" | "STARTED" | "RETRY" | "SUCCESS" | "FAILURE" | "REVOKED";

/** States after which nothing more happens to a task (Celery's `READY_STATES`). */
export const READY_STATES: ReadonlySet<TaskState> = new Set<TaskState>(["SUCCESS", "FAILURE", "REVOKED"]);

/** True when `state` is final. */
export function isReady(state: TaskState): boolean {
  return READY_STATES.has(state);
}
