/**
 * laminar's {@link TaskMessage} ⇄ Celery's task message protocol 2 (JSON), field by field, so a
 * laminar publisher can feed Python Celery workers and a laminar worker can run what Python sends.
 * The shapes are those of Celery 5.2's `app/amqp.py: as_task_v2` (checked against golden messages it
 * produced, `test/lib/tasks/celery/protocol-v2.test.ts`).
 *
 * What maps and what does not:
 * - `eta`/`expires` are ISO 8601 with an offset on the wire, epoch ms in laminar (an ISO time without
 *   an offset is read as UTC, as Celery's `enable_utc` default does).
 * - `chain`: Celery's embed is REVERSED (the next link is the last element, `chain.pop()` in
 *   `app/trace.py`); laminar's is in run order. Reversed both ways here.
 * - `chord` is the callback signature, `group`/`group_index` the membership. Protocol 2 does not carry
 *   the group's size (Celery keeps a chord's size in the result backend, `celery-taskset-meta-<gid>.s`):
 *   laminar writes it in its own `laminar_group_size` header, and a message from Python without it
 *   decodes with size {@link UNKNOWN_GROUP_SIZE} unless the caller passes `groupSize` (a laminar worker
 *   alone can then never complete a chord Python started: it waits rather than firing early).
 * - `callbacks`/`errbacks` (Celery's `link`/`link_error`) have no laminar equivalent: a laminar
 *   worker ignores them (they are dropped on decode), and laminar never sends any.
 * - An `immutable` signature (Celery's `.si()`) in a chain is called by laminar with the previous
 *   result prepended all the same: laminar's `Signature` has no such flag.
 * - `priority`: written as laminar's 0..9 (AMQP order, 9 highest); transports whose order is the
 *   other way round (kombu's Redis: lower first) convert it themselves.
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import { DEFAULT_QUEUE, newTaskId, type Signature, type SignatureOptions, type TaskMessage } from "../message.js";
import type {
  CeleryBody,
  CeleryEmbed,
  CeleryHeaders,
  CeleryJson,
  CeleryMessage,
  CeleryProperties,
  CelerySignatureDict,
} from "./celery-types.js";

/**
 * The size given to a group whose size the message does not say (a chord started by Python):
 * large enough that `done < size` always holds, so the callback is never published early.
 */
export const UNKNOWN_GROUP_SIZE = Number.MAX_SAFE_INTEGER;

/** A message that is not a protocol 2 task message (protocol 1, another app's message, garbage). */
export class CeleryProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CeleryProtocolError";
  }
}

/** Options of {@link toCeleryMessage}. */
export interface EncodeOptions {
  /** The AMQP exchange; `""` (the default exchange, routing key = queue) unless given. */
  exchange?: string;
  /** The routing key; the message's queue unless given. */
  routingKey?: string;
  /** kombu's delivery tag; a new UUID unless given. */
  deliveryTag?: string;
  /** A reply queue (Celery clients set an oid); `""` unless given. */
  replyTo?: string;
  /** Python's `ignore_result`: a worker stores no result. */
  ignoreResult?: boolean;
}

/** Options of {@link fromCeleryMessage}. */
export interface DecodeOptions {
  /** The queue it was read from; else the routing key; else `celery`. */
  queue?: string;
  /** The clock (epoch ms), for `publishedAt` when the message does not say. */
  now?: () => number;
  /** The group's size when the caller knows it (from Celery's `.s` key); else the header or {@link UNKNOWN_GROUP_SIZE}. */
  groupSize?: number;
}

/**
 * A laminar message as a Celery protocol 2 message.
 *
 * @example
 * const celery = toCeleryMessage(message);
 * const wireBody = JSON.stringify(celery.body); // what goes on an AMQP queue, or base64 in kombu's Redis envelope
 */
export function toCeleryMessage(message: TaskMessage, options: EncodeOptions = {}): CeleryMessage {
  const headers: CeleryHeaders = {
    lang: "py",
    task: message.task,
    id: message.id,
    shadow: null,
    eta: isoOrNull(message.eta),
    expires: isoOrNull(message.expires),
    group: message.group?.id ?? null,
    group_index: message.group?.index ?? null,
    retries: message.retries ?? 0,
    timelimit: message.timeLimit ? [message.timeLimit[0], message.timeLimit[1]] : [null, null],
    root_id: message.rootId ?? message.id,
    parent_id: message.parentId ?? null,
    argsrepr: repr(message.args),
    kwargsrepr: repr(message.kwargs),
    origin: message.origin ?? null,
    ignore_result: options.ignoreResult === true,
  };
  if (message.group !== undefined) headers.laminar_group_size = message.group.size;
  if (typeof message.publishedAt === "number") headers.laminar_published_at = message.publishedAt;
  const properties: CeleryProperties = {
    correlation_id: message.id,
    reply_to: options.replyTo ?? "",
    delivery_mode: 2,
    delivery_info: { exchange: options.exchange ?? "", routing_key: options.routingKey ?? message.queue },
    priority: message.priority,
    body_encoding: "base64",
    delivery_tag: options.deliveryTag ?? randomUUID(),
  };
  const embed: CeleryEmbed = {
    callbacks: null,
    errbacks: null,
    chain: message.chain && message.chain.length > 0 ? message.chain.map(toCelerySignature).reverse() : null,
    chord: message.chord ? toCelerySignature(message.chord) : null,
  };
  const body: CeleryBody = [message.args as CeleryJson[], message.kwargs as { [key: string]: CeleryJson }, embed];
  return { headers, properties, body, contentType: "application/json", contentEncoding: "utf-8" };
}

/**
 * A Celery protocol 2 message as a laminar message. Unknown headers are ignored; missing optional
 * ones take Celery's defaults. Throws {@link CeleryProtocolError} when it is not a protocol 2 task
 * message (no `task`/`id` header, a body that is not `[args, kwargs, embed]`).
 */
export function fromCeleryMessage(
  headers: Readonly<Record<string, unknown>>,
  body: unknown,
  properties: Readonly<Record<string, unknown>> = {},
  options: DecodeOptions = {},
): TaskMessage {
  const task = headers.task;
  const id = headers.id;
  if (typeof task !== "string" || task === "" || typeof id !== "string" || id === "") {
    // Protocol 1 put everything in the body and had no `task` header (celery/app/amqp.py: as_task_v1).
    throw new CeleryProtocolError("not a Celery protocol 2 task message: the task and id headers are missing");
  }
  if (!Array.isArray(body) || !Array.isArray(body[0]) || !isObject(body[1])) {
    throw new CeleryProtocolError(`task ${id}: the body is not [args, kwargs, embed]`);
  }
  const embed = isObject(body[2]) ? body[2] : {};
  const info = isObject(properties.delivery_info) ? properties.delivery_info : {};
  const queue = options.queue ?? (typeof info.routing_key === "string" && info.routing_key !== "" ? info.routing_key : DEFAULT_QUEUE);
  const message: TaskMessage = {
    id,
    task,
    args: body[0] as unknown[],
    kwargs: body[1] as Record<string, unknown>,
    queue,
    priority: typeof properties.priority === "number" ? properties.priority : 0,
    retries: typeof headers.retries === "number" ? headers.retries : 0,
    rootId: typeof headers.root_id === "string" && headers.root_id !== "" ? headers.root_id : id,
    publishedAt: typeof headers.laminar_published_at === "number" ? headers.laminar_published_at : (options.now ?? Date.now)(),
  };
  const eta = parseIso(headers.eta);
  if (eta !== undefined) message.eta = eta;
  const expires = parseIso(headers.expires);
  if (expires !== undefined) message.expires = expires;
  if (typeof headers.parent_id === "string" && headers.parent_id !== "") message.parentId = headers.parent_id;
  if (typeof headers.group === "string" && headers.group !== "") {
    const size = options.groupSize ?? (typeof headers.laminar_group_size === "number" ? headers.laminar_group_size : UNKNOWN_GROUP_SIZE);
    message.group = { id: headers.group, index: typeof headers.group_index === "number" ? headers.group_index : 0, size };
  }
  if (Array.isArray(embed.chain) && embed.chain.length > 0) {
    message.chain = embed.chain.filter(isObject).map((link) => fromCelerySignature(link)).reverse();
  }
  if (isObject(embed.chord)) message.chord = fromCelerySignature(embed.chord);
  const timeLimit = headers.timelimit;
  if (Array.isArray(timeLimit) && (numberOrNull(timeLimit[0]) !== null || numberOrNull(timeLimit[1]) !== null)) {
    message.timeLimit = [numberOrNull(timeLimit[0]), numberOrNull(timeLimit[1])];
  }
  if (typeof headers.origin === "string" && headers.origin !== "") message.origin = headers.origin;
  return message;
}

/** A laminar signature as Celery's signature dict (`task_id` and the publish options in `options`). */
export function toCelerySignature(signature: Signature): CelerySignatureDict {
  const options: { [key: string]: CeleryJson } = { task_id: signature.id };
  const o = signature.options ?? {};
  if (o.queue !== undefined) options.queue = o.queue;
  if (o.priority !== undefined) options.priority = o.priority;
  if (o.countdown !== undefined) options.countdown = o.countdown;
  if (o.eta !== undefined) options.eta = isoOrNull(o.eta);
  if (o.expires !== undefined) options.expires = isoOrNull(o.expires);
  return {
    task: signature.task,
    args: signature.args as CeleryJson[],
    kwargs: signature.kwargs as { [key: string]: CeleryJson },
    options,
    subtask_type: null,
    immutable: false,
  };
}

/**
 * Celery's signature dict as a laminar signature. A dict without `options.task_id` (not frozen)
 * gets a new id. `expires`/`eta` given as seconds-from-now numbers (Celery allows it for `expires`)
 * are converted with `now`.
 */
export function fromCelerySignature(dict: Readonly<Record<string, unknown>>, now: () => number = Date.now): Signature {
  const raw = isObject(dict.options) ? dict.options : {};
  const options: SignatureOptions = {};
  if (typeof raw.queue === "string" && raw.queue !== "") options.queue = raw.queue;
  if (typeof raw.priority === "number") options.priority = raw.priority;
  if (typeof raw.countdown === "number") options.countdown = raw.countdown;
  const eta = parseIso(raw.eta);
  if (eta !== undefined) options.eta = eta;
  const expires = typeof raw.expires === "number" ? now() + raw.expires * 1000 : parseIso(raw.expires);
  if (expires !== undefined) options.expires = expires;
  return {
    task: String(dict.task),
    id: typeof raw.task_id === "string" && raw.task_id !== "" ? raw.task_id : newTaskId(),
    args: Array.isArray(dict.args) ? (dict.args as unknown[]) : [],
    kwargs: isObject(dict.kwargs) ? (dict.kwargs as Record<string, unknown>) : {},
    options,
  };
}

/** The JSON text of a body, as kombu's json serializer writes it (what goes on the wire, or base64-encoded). */
export function encodeBody(body: CeleryBody): string {
  return JSON.stringify(body);
}

// --- helpers ---------------------------------------------------------------------------------

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function numberOrNull(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/** Epoch ms → ISO 8601 with an explicit UTC offset, as Python's `isoformat()` of an aware datetime. */
function isoOrNull(ms: number | undefined): string | null {
  if (typeof ms !== "number" || !Number.isFinite(ms)) return null;
  // Python writes microseconds only when there are some (`2030-01-02T04:00:00+00:00`, `…05.123000+00:00`).
  const iso = new Date(ms).toISOString();
  return iso.endsWith(".000Z") ? `${iso.slice(0, -5)}+00:00` : `${iso.slice(0, -1)}000+00:00`;
}

/** ISO 8601 → epoch ms; without an offset it is UTC. Microseconds are cut to ms. Undefined when absent or unreadable. */
export function parseIso(value: unknown): number | undefined {
  if (typeof value !== "string" || value === "") return undefined;
  const match = /^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?)(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$/i.exec(value.trim());
  if (!match) return undefined;
  const fraction = match[2] ? `.${match[2].slice(0, 3).padEnd(3, "0")}` : "";
  const ms = Date.parse(`${match[1]!.replace(" ", "T")}${fraction}${match[3] ?? "Z"}`);
  return Number.isFinite(ms) ? ms : undefined;
}

/** A short text of the arguments for logs (Celery writes Python's `repr`, capped at 1024 by `argsrepr_maxsize`). */
function repr(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? "";
  } catch {
    text = String(value);
  }
  return text.length > 1024 ? `${text.slice(0, 1021)}...` : text;
}
