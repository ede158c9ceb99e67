/**
 * Celery's remote-control revoke over Redis: `app.control.revoke(id, terminate=True)` publishes a
 * kombu envelope on the `celery.pidbox` fanout exchange, which kombu's Redis transport implements as
 * a PUBLISH on the channel `/<db>.celery.pidbox` (`keyprefix_fanout = '/{db}.'`, the key prefix in front
 * like every PUBLISH, `kombu/transport/redis.py: _get_publish_topic`). The body is
 * `{"method": "revoke", "arguments": {"task_id", "terminate", "signal"}, "destination": null,
 * "pattern": null, "matcher": null}` (`celery/app/control.py: Control.revoke`, `kombu/pidbox.py`).
 *
 * laminar sends one on every `revoke` (so Python workers stop the task too) and records the ones
 * Python sends in its own revocation set. Its own broadcasts carry a `laminar` header so laminar does
 * not record them twice.
 *
 * @module
 */
import { randomUUID } from "node:crypto";

/** The pub/sub channel of Celery's broadcast mailbox on Redis db `db`. */
export function pidboxChannel(prefix: string, db: number): string {
  return `${prefix}/${db}.celery.pidbox`;
}

/** A revoke broadcast as kombu's envelope text. */
export function encodePidboxRevoke(taskId: string, terminate: boolean, now: number): string {
  const body = { method: "revoke", arguments: { task_id: taskId, terminate, signal: "SIGTERM" }, destination: null, pattern: null, matcher: null };
  return JSON.stringify({
    body: Buffer.from(JSON.stringify(body), "utf8").toString("base64"),
    "content-encoding": "utf-8",
    "content-type": "application/json",
    // kombu's Mailbox drops a broadcast past `expires` (epoch seconds); Celery's control uses 1 s ahead of the reply timeout.
    headers: { clock: 1, expires: now / 1000 + 60, laminar: true },
    properties: {
      delivery_mode: 2,
      delivery_info: { exchange: "celery.pidbox", routing_key: "" },
      priority: 0,
      body_encoding: "base64",
      delivery_tag: randomUUID(),
    },
  });
}

/** The revocations a broadcast asks for; empty for other commands, laminar's own broadcasts and garbage. */
export function decodePidboxRevoke(text: string): { taskIds: string[]; terminate: boolean } | undefined {
  try {
    const envelope = JSON.parse(text) as { body?: unknown; headers?: Record<string, unknown>; properties?: Record<string, unknown> };
    if (envelope.headers?.laminar === true || typeof envelope.body !== "string") return undefined;
    const raw = envelope.properties?.body_encoding === "base64" ? Buffer.from(envelope.body, "base64").toString("utf8") : envelope.body;
    const body = JSON.parse(raw) as { method?: unknown; arguments?: { task_id?: unknown; terminate?: unknown } };
    if (body.method !== "revoke" || !body.arguments) return undefined;
    const ids = Array.isArray(body.arguments.task_id) ? body.arguments.task_id : [body.arguments.task_id];
    const taskIds = ids.filter((id): id is string => typeof id === "string" && id !== "");
    return taskIds.length > 0 ? { taskIds, terminate: body.arguments.terminate === true } : undefined;
  } catch {
    return undefined;
  }
}
