/**
 * kombu's Redis transport format: the keys a queue uses and the JSON envelope a message travels in,
 * so laminar and Python Celery workers can share one Redis broker.
 *
 * - The envelope (`kombu/transport/virtual/base.py: Channel.prepare_message` + `_inplace_augment_message`):
 *   `{"body": base64(JSON [args, kwargs, embed]), "content-encoding": "utf-8", "content-type":
 *   "application/json", "headers": {…protocol 2…}, "properties": {…, "body_encoding": "base64"}}`.
 * - A queue is up to four lists (`kombu/transport/redis.py: _q_for_pri`): `name` for priority 0 and
 *   `name\x06\x16<step>` for the steps 3, 6, 9 (`PRIORITY_STEPS = [0, 3, 6, 9]`); a priority p goes
 *   to the largest step ≤ p. Producers LPUSH, consumers BRPOP the lists in step order, so on Redis a
 *   LOWER number runs first (Celery's docs say so, unlike AMQP). laminar's priorities are AMQP's
 *   (9 highest), so the Redis priority written is `9 - p`: a laminar priority-9 task goes to `name`
 *   beside Python's default (0) ones, a laminar default (0) task to `name\x06\x169`. Python's default
 *   priority (0, or none) therefore reads as laminar 9.
 *
 * @module
 */
import { MAX_PRIORITY } from "../message.js";
import type { TaskMessage } from "../message.js";
import { fromCeleryMessage, toCeleryMessage } from "../celery/protocol-v2.js";
import { clampPriority } from "../broker-support/delivery-order.js";

/** kombu's `PRIORITY_STEPS`. Python workers only read these four lists per queue. */
export const PRIORITY_STEPS = [0, 3, 6, 9] as const;
/** kombu's `sep` between a queue name and its priority step. */
export const PRIORITY_SEPARATOR = "\x06\x16";

/** The Redis priority (0 first) of a laminar priority (9 first). */
export function redisPriority(laminarPriority: number): number {
  return MAX_PRIORITY - clampPriority(laminarPriority);
}

/** The laminar priority of a Redis priority from the wire (missing or junk counts as kombu's default 0). */
export function laminarPriority(redisPriorityValue: unknown): number {
  return MAX_PRIORITY - clampPriority(redisPriorityValue);
}

/** The list (without any key prefix) a message of Redis priority `priority` on `queue` goes to. */
export function listName(queue: string, priority: number): string {
  let step = 0;
  for (const s of PRIORITY_STEPS) if (s <= priority) step = s;
  return step === 0 ? queue : `${queue}${PRIORITY_SEPARATOR}${step}`;
}

/** The lists of a queue in the order a consumer takes from them (highest priority first). */
export function listNames(queue: string): string[] {
  return PRIORITY_STEPS.map((step) => (step === 0 ? queue : `${queue}${PRIORITY_SEPARATOR}${step}`));
}

/** A message as kombu's Redis envelope text, and the list it goes to. */
export function toEnvelope(message: TaskMessage): { envelope: string; list: string; tag: string } {
  const celery = toCeleryMessage(message);
  celery.properties.priority = redisPriority(message.priority);
  const envelope = JSON.stringify({
    body: Buffer.from(JSON.stringify(celery.body), "utf8").toString("base64"),
    "content-encoding": celery.contentEncoding,
    "content-type": celery.contentType,
    headers: celery.headers,
    properties: celery.properties,
  });
  return { envelope, list: listName(message.queue, celery.properties.priority), tag: celery.properties.delivery_tag };
}

/**
 * A message from kombu's Redis envelope text (laminar's or Python's). Throws on what is not a
 * protocol 2 JSON task message (a pickled body, protocol 1, garbage).
 */
export function fromEnvelope(text: string, queue: string, now: () => number): TaskMessage {
  const envelope = JSON.parse(text) as Record<string, unknown>;
  const properties = (envelope.properties ?? {}) as Record<string, unknown>;
  const headers = (envelope.headers ?? {}) as Record<string, unknown>;
  const contentType = envelope["content-type"];
  if (contentType !== undefined && contentType !== "application/json") {
    throw new TypeError(`content type ${String(contentType)} is not JSON (set Celery's task_serializer to "json")`);
  }
  const raw = typeof envelope.body === "string" ? envelope.body : "";
  const bodyText = properties.body_encoding === "base64" ? Buffer.from(raw, "base64").toString("utf8") : raw;
  const body: unknown = JSON.parse(bodyText);
  return fromCeleryMessage(headers, body, { ...properties, priority: laminarPriority(properties.priority ?? 0) }, { queue, now });
}
