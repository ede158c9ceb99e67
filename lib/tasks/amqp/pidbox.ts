/**
 * Celery's remote-control revoke on RabbitMQ: kombu's `Mailbox` (`kombu/pidbox.py`) broadcasts a
 * JSON `{method, arguments, destination, pattern, matcher}` on the fanout exchange
 * `<control_exchange>.pidbox` (`celery.pidbox` by default; declared non-durable, not auto-delete), and
 * every worker's own queue bound to it receives it. `app.control.revoke(id, terminate=…)` sends
 * `method: "revoke"` with `arguments: {task_id, terminate, signal}` (`celery/app/control.py`), where
 * `task_id` is one id or a list.
 *
 * @module
 */

/** The exchange of Celery's default control namespace. */
export const PIDBOX_EXCHANGE = "celery.pidbox";

/**
 * A revoke as the broadcast message body. `laminar_origin` names the sending broker, which then
 * ignores its own echo (Python's `Node.dispatch(**body)` takes unknown keys as `**kwargs`).
 */
export function revokeBody(taskId: string, terminate: boolean, origin: string): Record<string, unknown> {
  return { method: "revoke", arguments: { task_id: taskId, terminate, signal: "SIGTERM" }, destination: null, pattern: null, matcher: null, laminar_origin: origin };
}

/** What a broadcast revoke asks for. */
export interface PidboxRevoke {
  taskIds: string[];
  terminate: boolean;
  /** The laminar broker that sent it, if one did. */
  origin?: string;
}

/**
 * The revoke in a broadcast body, or undefined for any other command, a body that is not JSON, or
 * one addressed to named workers only (`destination`/`pattern`: a laminar worker is never one of
 * Celery's node names, so it is not meant).
 */
export function parseRevoke(content: Buffer): PidboxRevoke | undefined {
  let body: unknown;
  try {
    body = JSON.parse(content.toString("utf8"));
  } catch {
    return undefined;
  }
  if (body === null || typeof body !== "object") return undefined;
  const { method, arguments: args, destination, pattern, laminar_origin: origin } = body as Record<string, unknown>;
  if (method !== "revoke" || args === null || typeof args !== "object") return undefined;
  if ((Array.isArray(destination) && destination.length > 0) || (typeof pattern === "string" && pattern !== "")) return undefined;
  const { task_id: taskId, terminate } = args as Record<string, unknown>;
  const taskIds = (Array.isArray(taskId) ? taskId : [taskId]).filter((id): id is string => typeof id === "string" && id !== "");
  if (taskIds.length === 0) return undefined;
  return typeof origin === "string" ? { taskIds, terminate: terminate === true, origin } : { taskIds, terminate: terminate === true };
}
