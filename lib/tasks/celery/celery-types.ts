/**
 * The shapes of Celery's task message protocol 2 (Celery 5.2, kombu 5.2), as a Python producer
 * sends them (`celery/app/amqp.py: as_task_v2`) and a Python worker reads them
 * (`celery/worker/strategy.py`, `celery/app/trace.py`). Types only: the mapping onto laminar's
 * {@link TaskMessage} is in `protocol-v2.ts`.
 *
 * @module
 */

/** A JSON value as Celery's JSON serializer (kombu's `json`) writes it. */
export type CeleryJson = null | boolean | number | string | CeleryJson[] | { [key: string]: CeleryJson };

/**
 * The message headers of protocol 2, in the order `as_task_v2` writes them. Every field may be
 * absent or null on the wire (older producers, other clients); the decoder reads them defensively.
 * Celery 5.3's `stamped_headers`/`stamps` are not written (5.2 does not know them) and are ignored on read.
 */
export interface CeleryHeaders {
  /** Always `"py"`: Celery's workers refuse nothing on it, but Flower and inspect show it. */
  lang: string;
  /** The registered task name. */
  task: string;
  id: string;
  /** A display name replacing `task` in logs; laminar neither sets nor uses it. */
  shadow: string | null;
  /** ISO 8601 with offset (`2030-01-02T03:04:05.123000+00:00`), or null. */
  eta: string | null;
  /** ISO 8601 with offset, or null. */
  expires: string | null;
  group: string | null;
  group_index: number | null;
  retries: number;
  /** Seconds: [hard, soft]. */
  timelimit: [number | null, number | null];
  root_id: string | null;
  parent_id: string | null;
  /** Python `repr()` of the args, for logs and Flower. laminar writes JSON text instead. */
  argsrepr: string;
  kwargsrepr: string;
  /** `gen<pid>@<host>` in Python; `<host>:<pid>` from laminar. */
  origin: string | null;
  ignore_result: boolean;
  /**
   * laminar's own headers (Celery ignores unknown headers and a Python worker carries them along
   * untouched): the group's size, which protocol 2 does not carry (Celery keeps a chord's size in the
   * result backend, `celery-taskset-meta-<group>.s`), and the publish time.
   */
  laminar_group_size?: number;
  laminar_published_at?: number;
  /** Set by kombu when a message was restored after a lost lease (`_do_restore_message`). */
  redelivered?: boolean;
  [other: string]: unknown;
}

/** A signature as a dict (`Signature` is a dict subclass in Python): what chain/chord/callbacks hold. */
export interface CelerySignatureDict {
  task: string;
  args: CeleryJson[];
  kwargs: { [key: string]: CeleryJson };
  /** Publish options: `task_id`, `queue`, `priority`, `countdown`, `eta`, `expires`, `reply_to`, … */
  options: { [key: string]: CeleryJson };
  /** null for a plain task; `"chain"`, `"group"`, `"chord"` for canvas primitives laminar cannot run as a link. */
  subtask_type: string | null;
  /** An immutable signature is called without the parent's result prepended. */
  immutable: boolean;
  /** Present on a chord callback Celery froze with a size (some 5.x paths). */
  chord_size?: number | null;
  [other: string]: unknown;
}

/** The third element of the body: the workflow this task is part of. */
export interface CeleryEmbed {
  callbacks: CelerySignatureDict[] | null;
  errbacks: CelerySignatureDict[] | null;
  /** The links still to run, REVERSED: the next one to run is the last element (Celery pops it). */
  chain: CelerySignatureDict[] | null;
  /** The chord's callback, carried by every member of the chord's header. */
  chord: CelerySignatureDict | null;
}

/** The message body, JSON-encoded on the wire: `[args, kwargs, embed]`. */
export type CeleryBody = [CeleryJson[], { [key: string]: CeleryJson }, CeleryEmbed];

/** Where kombu says a message went. */
export interface CeleryDeliveryInfo {
  exchange: string;
  routing_key: string;
  redelivered?: boolean;
}

/** The message properties (AMQP basic properties; kombu's virtual transports keep them in the envelope). */
export interface CeleryProperties {
  correlation_id: string;
  /** The client's reply queue (an oid); `""` when none. */
  reply_to: string;
  /** 2: persistent. */
  delivery_mode: number;
  delivery_info: CeleryDeliveryInfo;
  /** 0..9 as the producer gave it; what it means depends on the transport (see the Redis broker). */
  priority: number;
  /** Always `"base64"` on kombu's virtual transports (Redis): the envelope's body is base64 text. */
  body_encoding: string;
  delivery_tag: string;
  /** Milliseconds as a string: kombu sets it from `expires` on some transports. */
  expiration?: string;
  [other: string]: unknown;
}

/** One protocol 2 message, the body still decoded (the transport encodes it). */
export interface CeleryMessage {
  headers: CeleryHeaders;
  properties: CeleryProperties;
  body: CeleryBody;
  contentType: "application/json";
  contentEncoding: "utf-8";
}

/** How Celery's result backends store an exception (`backends/base.py: prepare_exception`). */
export interface CeleryException {
  /** The class's `__qualname__`. */
  exc_type: string;
  /** The exception's `args` (a list; a string in some old clients). */
  exc_message: CeleryJson[] | string;
  /** The class's `__module__`; `"builtins"` for Python's own. */
  exc_module: string | null;
  /** laminar's extra: the error's own data (`code`, `status`, …). Python ignores it. */
  exc_data?: { [key: string]: CeleryJson };
  /** laminar's extra: the error's laminar name when `exc_type` had to differ (JavaScript's `Error` goes as `Exception`). */
  laminar_type?: string;
}
