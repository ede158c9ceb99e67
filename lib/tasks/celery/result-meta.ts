/**
 * laminar's {@link TaskMeta} ⇄ the task meta Celery's key-value result backends store
 * (`celery/backends/base.py: _get_result_meta`, `_store_result`):
 * `{"status", "result", "traceback", "children", "date_done", "task_id"}`, plus Celery's
 * `result_extended` fields (`name`, `retries`, `worker`) when laminar knows them.
 *
 * - `result` is the return value for SUCCESS, and the exception dict (`exception.ts`) for FAILURE,
 *   RETRY and REVOKED (Celery's `EXCEPTION_STATES`: Python's `AsyncResult.get()` rebuilds it and
 *   raises it; a REVOKED meta without one gets Celery's own `TaskRevokedError`, or Python would
 *   `raise None`).
 * - `traceback` is the error's stack; `date_done` an ISO time for ready states, null otherwise.
 * - `children` are Celery result tuples (`[[id, null], null]`, `ResultBase.as_tuple`), so Python's
 *   `AsyncResult.children` rebuilds them; laminar keeps the ids.
 * - laminar's `updatedAt` travels as `laminar_updated_at` (Python ignores unknown keys).
 *
 * @module
 */
import type { TaskMeta } from "../result-backend.js";
import { isReady, type TaskState } from "../states.js";
import type { CeleryJson } from "./celery-types.js";
import { fromCeleryException, toCeleryException } from "./exception.js";

/** The meta as Celery stores it. */
export interface CeleryResultMeta {
  status: string;
  result: CeleryJson;
  traceback: string | null;
  children: CeleryJson[];
  date_done: string | null;
  task_id: string;
  name?: string;
  retries?: number;
  worker?: string;
  laminar_updated_at?: number;
  [other: string]: unknown;
}

const EXCEPTION_STATES: ReadonlySet<string> = new Set(["FAILURE", "RETRY", "REVOKED"]);
const KNOWN_STATES: ReadonlySet<string> = new Set(["PENDING", "RECEIVED", "STARTED", "RETRY", "SUCCESS", "FAILURE", "REVOKED"]);

/** A laminar meta (with `updatedAt` filled in) as Celery's. */
export function toCeleryMeta(meta: TaskMeta): CeleryResultMeta {
  let result: CeleryJson = null;
  let traceback: string | null = null;
  if (meta.error !== undefined && EXCEPTION_STATES.has(meta.state)) {
    result = toCeleryException(meta.error) as unknown as CeleryJson;
    traceback = meta.error.stack ?? null;
  } else if (meta.state === "REVOKED") {
    result = { exc_type: "TaskRevokedError", exc_message: ["revoked"], exc_module: "celery.exceptions" };
  } else if (meta.result !== undefined) {
    result = meta.result as CeleryJson;
  }
  const out: CeleryResultMeta = {
    status: meta.state,
    result,
    traceback,
    children: (meta.children ?? []).map((id) => [[id, null], null]),
    date_done: meta.dateDone ?? (isReady(meta.state) ? new Date(meta.updatedAt ?? Date.now()).toISOString() : null),
    task_id: meta.taskId,
  };
  if (meta.name !== undefined) out.name = meta.name;
  if (meta.retries !== undefined) out.retries = meta.retries;
  if (meta.worker !== undefined) out.worker = meta.worker;
  if (meta.updatedAt !== undefined) out.laminar_updated_at = meta.updatedAt;
  return out;
}

/** Celery's meta (from Python or laminar) as laminar's. Undefined when it is not a task meta. */
export function fromCeleryMeta(raw: unknown, taskId: string): TaskMeta | undefined {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return undefined;
  const m = raw as Record<string, unknown>;
  if (typeof m.status !== "string" || !KNOWN_STATES.has(m.status)) return undefined;
  const state = m.status as TaskState;
  const meta: TaskMeta = { taskId: typeof m.task_id === "string" && m.task_id !== "" ? m.task_id : taskId, state };
  if (typeof m.name === "string") meta.name = m.name;
  if (EXCEPTION_STATES.has(state)) {
    const revokedDefault =
      state === "REVOKED" && m.result !== null && typeof m.result === "object" && (m.result as Record<string, unknown>).exc_type === "TaskRevokedError";
    if (m.result !== null && m.result !== undefined && !revokedDefault) meta.error = fromCeleryException(m.result, typeof m.traceback === "string" ? m.traceback : null);
  } else if (state === "SUCCESS") {
    meta.result = m.result;
  } else if (m.result !== null && m.result !== undefined) {
    meta.result = m.result;
  }
  if (typeof m.retries === "number") meta.retries = m.retries;
  if (typeof m.worker === "string") meta.worker = m.worker;
  if (typeof m.date_done === "string") meta.dateDone = m.date_done;
  if (Array.isArray(m.children) && m.children.length > 0) meta.children = m.children.map(childId).filter((id): id is string => id !== undefined);
  if (typeof m.laminar_updated_at === "number") meta.updatedAt = m.laminar_updated_at;
  return meta;
}

/** The id in a Celery result tuple (`[[id, parent], nodes]`), or a bare id. */
function childId(tuple: unknown): string | undefined {
  if (typeof tuple === "string") return tuple;
  if (!Array.isArray(tuple)) return undefined;
  const head: unknown = tuple[0];
  if (typeof head === "string") return head;
  if (Array.isArray(head) && typeof head[0] === "string") return head[0];
  return undefined;
}
