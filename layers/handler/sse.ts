/**
 * Server-sent events: `EventSourceResponse` (sse-starlette's), a streaming response whose body is
 * the `text/event-stream` format of the HTML standard (§9.2, "Server-sent events"), read by the
 * browser's `EventSource`.
 *
 * Framing (§9.2.6, "Interpreting an event stream"): an event is a block of `field: value` lines
 * ended by a blank line. A client splits lines on CR, LF and CRLF alike, so every line break in a
 * value would start a new field: `data` is therefore split on all three and sent as one `data:`
 * line per line (the client joins them with LF: CR and CRLF inside data arrive as LF, which the
 * format cannot avoid); a `comment` likewise gets one `:` line per line. `event` and `id` are
 * single-line by definition, and a line break in one would let its value forge fields of its own
 * (`"x\ndata: forged"`): such values are refused with a `TypeError`, not silently rewritten, since
 * a rewritten event name would no longer match the client's listener. An `id` containing NUL is
 * refused too (the client would ignore it, §9.2.6). `retry` must be a non-negative integer
 * (milliseconds; only ASCII digits are accepted by the client).
 *
 * A refused event is an error thrown while the response streams: the error layer logs it and the
 * connection is closed, like any error after the response started.
 *
 * Keep-alive: while the source has nothing to send for `pingInterval` ms, a comment (`: ping`) is
 * written, so proxies and load balancers do not close an idle connection and a gone client is
 * noticed by the next write. The timer runs only while waiting on the source and is cleared on
 * every way out (the source ends, throws, or the client disconnects).
 *
 * Deliberately left out: reconnection state (the client's `Last-Event-ID` is handed to the app by
 * {@link lastEventId}; replaying missed events is the app's business) and a send timeout
 * (sse-starlette's `send_timeout`): a client that stops reading is held back by backpressure,
 * and `requestTimeout` or the server's own limits bound it.
 *
 * @module
 */
import type { HttpScope } from "../adapter/events.js";
import { StreamingResponse, type ResponseInit } from "./responses.js";
import { stopSource } from "./stream-body.js";

/**
 * One event. Every field is optional; `data` that is not a string is sent as JSON. Unknown fields
 * are refused (a `TypeError`), which catches the easy mistake of yielding a payload directly:
 * yield `{ data: payload }`, not `payload`.
 */
export interface ServerSentEvent {
  /** The payload: a string as it is (multi-line allowed), anything else `JSON.stringify`'d. */
  data?: unknown;
  /** The event type the client listens for (`addEventListener(type)`); `message` when absent. No line breaks. */
  event?: string;
  /** The event ID, which the client sends back as `Last-Event-ID` when it reconnects. No line breaks, no NUL. */
  id?: string | number;
  /** The reconnection delay the client should use, in milliseconds (a non-negative integer). */
  retry?: number;
  /** A comment line (ignored by clients; useful as a keep-alive or for debugging). */
  comment?: string;
}

/** What an event source yields: an event, or a string, which is sent as the event's `data`. */
export type EventSourceItem = ServerSentEvent | string;

/** Options of an {@link EventSourceResponse}. */
export interface EventSourceInit extends ResponseInit {
  /**
   * Milliseconds of silence from the source after which a `: ping` comment is sent; default
   * 15 000, 0 turns pings off.
   */
  pingInterval?: number;
}

/** Default {@link EventSourceInit.pingInterval}: 15 s, as sse-starlette. */
export const DEFAULT_PING_INTERVAL = 15_000;

/** The keep-alive comment. */
export const PING_COMMENT = ": ping\n\n";

/** node turns a longer delay into 1 ms (with a TimeoutOverflowWarning): refuse it instead. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Every line break a client recognises (§9.2.5: CRLF, lone LF, lone CR). */
const LINE_BREAK = /\r\n|\r|\n/;
const NEWLINE_OR_NUL = /[\r\n\0]/;
const FIELDS = new Set(["data", "event", "id", "retry", "comment"]);

/** `prefix` + each line of `text`, one field line per line. */
function fieldLines(prefix: string, text: string): string {
  let out = "";
  for (const line of text.split(LINE_BREAK)) out += prefix + line + "\n";
  return out;
}

function describe(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

/**
 * The wire form of one event, ending with its blank line. Throws a `TypeError` for a value the
 * format cannot carry safely (see the module comment).
 *
 * @example
 * formatServerSentEvent({ event: "update", id: 7, data: "line 1\nline 2" });
 * // "event: update\nid: 7\ndata: line 1\ndata: line 2\n\n"
 */
export function formatServerSentEvent(item: EventSourceItem): string {
  if (typeof item === "string") return fieldLines("data: ", item) + "\n";
  if (item === null || typeof item !== "object" || Array.isArray(item)) {
    throw new TypeError(`a server-sent event must be a string or an object, got ${item === null ? "null" : Array.isArray(item) ? "an array" : typeof item}`);
  }
  for (const key of Object.keys(item)) {
    if (!FIELDS.has(key)) {
      throw new TypeError(`unknown server-sent event field ${JSON.stringify(key)} (fields: data, event, id, retry, comment; send a payload as { data })`);
    }
  }
  const { data, event, id, retry, comment } = item;
  let out = "";
  if (comment !== undefined) out += fieldLines(": ", String(comment));
  if (event !== undefined) {
    if (typeof event !== "string" || NEWLINE_OR_NUL.test(event)) {
      throw new TypeError(`a server-sent event name must be a string without CR, LF or NUL, got ${describe(event)}`);
    }
    out += `event: ${event}\n`;
  }
  if (id !== undefined) {
    const text = typeof id === "number" ? String(id) : id;
    if (typeof text !== "string" || NEWLINE_OR_NUL.test(text)) {
      throw new TypeError(`a server-sent event id must be a string or number without CR, LF or NUL, got ${describe(id)}`);
    }
    out += `id: ${text}\n`;
  }
  if (retry !== undefined) {
    if (typeof retry !== "number" || !Number.isSafeInteger(retry) || retry < 0) {
      throw new TypeError(`a server-sent event retry must be a non-negative integer (ms), got ${describe(retry)}`);
    }
    out += `retry: ${retry}\n`;
  }
  if (data !== undefined) {
    const text = typeof data === "string" ? data : JSON.stringify(data);
    if (text === undefined) throw new TypeError(`server-sent event data of type ${typeof data} cannot be sent as JSON`);
    out += fieldLines("data: ", text);
  }
  return out + "\n";
}

const PING: unique symbol = Symbol("ping");
const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/**
 * The source's events as wire text, with a ping whenever the source is silent for the interval.
 * A hand-written iterator (not a generator) so that `return()` acts at once, even while a `next()`
 * is waiting on the source: the timer is cleared and the source stopped.
 */
class EventStream implements AsyncIterableIterator<string> {
  private readonly source: unknown;
  private readonly iterator: Iterator<EventSourceItem> | AsyncIterator<EventSourceItem>;
  private readonly interval: number;
  /** The source's `next()` that has not settled yet; kept across pings. */
  private pending: Promise<IteratorResult<EventSourceItem>> | null = null;
  private timer: NodeJS.Timeout | undefined = undefined;
  private finished = false;

  constructor(source: AsyncIterable<EventSourceItem> | Iterable<EventSourceItem>, interval: number) {
    this.source = source;
    if (typeof source === "string") this.iterator = [source][Symbol.iterator]();
    else if (source !== null && typeof source === "object" && Symbol.asyncIterator in source) this.iterator = source[Symbol.asyncIterator]();
    else if (source !== null && typeof source === "object" && Symbol.iterator in source) this.iterator = source[Symbol.iterator]();
    else throw new TypeError("EventSourceResponse needs an iterable or an async iterable of events");
    this.interval = interval;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<string>> {
    if (this.finished) return DONE;
    let step: IteratorResult<EventSourceItem>;
    try {
      const next = this.pending ?? this.iterator.next();
      if (typeof (next as { then?: unknown }).then !== "function") {
        step = next as IteratorResult<EventSourceItem>; // a sync source: nothing to wait for, nothing to ping about
      } else {
        this.pending = next as Promise<IteratorResult<EventSourceItem>>;
        const raced = this.interval === 0 ? await this.pending : await Promise.race([this.pending, this.pingTimer()]);
        this.clearTimer();
        if (raced === PING) return { done: false, value: PING_COMMENT };
        step = raced;
        this.pending = null;
      }
    } catch (err) {
      // The source threw: it is over, and so is this stream.
      this.finished = true;
      this.pending = null;
      this.clearTimer();
      throw err;
    }
    if (step.done === true) {
      this.finished = true;
      return DONE;
    }
    let text: string;
    try {
      text = formatServerSentEvent(step.value);
    } catch (err) {
      // The source is suspended at its yield: stop it so its finally runs, then report the event.
      await this.return().catch(() => {});
      throw err;
    }
    return { done: false, value: text };
  }

  /** Stops the source (see {@link stopSource}): at once, whether or not a `next()` is pending. */
  async return(): Promise<IteratorResult<string>> {
    this.clearTimer();
    if (this.finished) return DONE;
    this.finished = true;
    await stopSource(this.source, this.iterator, this.pending !== null);
    return DONE;
  }

  private pingTimer(): Promise<typeof PING> {
    return new Promise((resolve) => {
      this.timer = setTimeout(resolve, this.interval, PING);
    });
  }

  private clearTimer(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }
}

/**
 * A `text/event-stream` response: each item the source yields becomes one event (see
 * {@link formatServerSentEvent}), and a `: ping` comment goes out while the source is idle.
 * Headers: `content-type: text/event-stream; charset=utf-8`, `cache-control: no-cache` and
 * `x-accel-buffering: no` (so nginx passes events on instead of buffering them), each unless given
 * in `init.headers`; never a `content-length`. Everything else is {@link StreamingResponse}'s:
 * backpressure, and on client disconnect the source's `finally` runs, the ping timer is cleared
 * and the request's signal is aborted.
 *
 * Throws a `RangeError` for a `pingInterval` that is not a finite number from 0 to 2³¹−1.
 *
 * @example
 * app.get("/ticks", (ctx) =>
 *   new EventSourceResponse(
 *     (async function* () {
 *       let n = Number(lastEventId(ctx.scope) ?? 0);
 *       for (;;) {
 *         await setTimeout(1000, undefined, { signal: requestSignal(ctx.scope) });
 *         n += 1;
 *         yield { event: "tick", id: n, data: { n } };
 *       }
 *     })(),
 *   ),
 * );
 */
export class EventSourceResponse extends StreamingResponse {
  constructor(source: AsyncIterable<EventSourceItem> | Iterable<EventSourceItem>, init: EventSourceInit = {}) {
    const { pingInterval = DEFAULT_PING_INTERVAL, ...rest } = init;
    if (typeof pingInterval !== "number" || !Number.isFinite(pingInterval) || pingInterval < 0 || pingInterval > MAX_TIMER_MS) {
      throw new RangeError(`EventSourceResponse: pingInterval must be a number of ms from 0 to ${MAX_TIMER_MS}, got ${String(pingInterval)}`);
    }
    super(new EventStream(source, pingInterval), rest, "text/event-stream; charset=utf-8");
    const headers = this.headers;
    // The body is framed by the server (chunked); a stated length would cut the stream short.
    for (let i = headers.length - 1; i >= 0; i--) if (headers[i]![0] === "content-length") headers.splice(i, 1);
    if (!headers.some(([k]) => k === "cache-control")) headers.push(["cache-control", "no-cache"]);
    if (!headers.some(([k]) => k === "x-accel-buffering")) headers.push(["x-accel-buffering", "no"]);
  }
}

/**
 * The `Last-Event-ID` request header: the `id` of the last event a reconnecting `EventSource` saw,
 * or `undefined` when absent or empty.
 */
export function lastEventId(scope: HttpScope): string | undefined {
  for (const [name, value] of scope.headers) {
    if (name === "last-event-id") return value === "" ? undefined : value;
  }
  return undefined;
}
