/**
 * How result backends keep a {@link TaskMeta}: as JSON text with `updatedAt` filled in, checked at
 * store, so every backend refuses the same broken metas (no task id, a state Celery does not know)
 * instead of one storing them and another failing later.
 *
 * @module
 */
import type { TaskMeta } from "../result-backend.js";
import type { TaskState } from "../states.js";

const STATES: ReadonlySet<string> = new Set<TaskState>(["PENDING", "RECEIVED", "STARTED", "RETRY", "SUCCESS", "FAILURE", "REVOKED"]);

/** The meta as stored (with `updatedAt`); throws a TypeError for one that is not a storable meta. */
export function encodeMeta(meta: TaskMeta, now: () => number): { body: string; updatedAt: number } {
  if (meta === null || typeof meta !== "object") throw new TypeError("A task meta must be an object");
  if (typeof meta.taskId !== "string" || meta.taskId === "") throw new TypeError("A task meta needs a non-empty string taskId");
  if (!STATES.has(meta.state)) throw new TypeError(`Task ${meta.taskId}: unknown state ${JSON.stringify(meta.state)}`);
  const updatedAt = typeof meta.updatedAt === "number" && Number.isFinite(meta.updatedAt) ? meta.updatedAt : now();
  return { body: JSON.stringify({ ...meta, updatedAt }), updatedAt };
}
