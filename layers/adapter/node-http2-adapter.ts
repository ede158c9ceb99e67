/**
 * Layer 2 for node:http2: turns one HTTP/2 stream (node's core stream API, not the
 * `Http2ServerRequest`/`Http2ServerResponse` compatibility layer, which costs two more objects per
 * stream and hides a reset behind a normal end of body) into `(scope, receive, send)`, runs the app
 * and enforces the event protocol, with the same decisions as the node:http adapter wherever the
 * protocol allows (see node-http-adapter.ts):
 *
 * - the scope: `httpVersion` `"2"`; `method` from `:method`; `rawPath`/`queryString`/`path` from
 *   `:path` (a malformed percent-escape: 400); a `host` header from `:authority` (RFC 9113 §8.3.1:
 *   what an HTTP/1.1 hop would build), first in the list; `:authority` and a `host` naming
 *   different hosts, or neither present: 400; repeated `cookie` fields joined with `"; "` (RFC 9113
 *   §8.2.3, so an app written for HTTP/1.1 sees one cookie header); `scheme` is the connection's
 *   (TLS or not), as on node:http: a cleartext client claiming `:scheme https` is not believed
 *   (behind a proxy, the forwarded-headers middleware says what the client used);
 * - a header list past maxHeaderSize (RFC 7541 §4.1 sizes): 431 (nghttp2 resets such a stream itself,
 *   before decoding it, once the client acknowledged SETTINGS_MAX_HEADER_LIST_SIZE);
 * - `:path` longer than maxUrlLength: 414; a Content-Length over maxBodySize: 413 before the app;
 *   a streamed body passing it: `receive()` rejects with `BodyTooLargeError`, the client gets a 413
 *   (or a reset, if the response had started) and the stream is closed with NO_ERROR (RFC 9113
 *   §8.1: a server may answer before the request is complete and ask the client to stop sending);
 * - a request body not complete within requestTimeout (a client trickling DATA frames, or
 *   sending none: slowloris on a stream): 408 if the response has not started, else the stream is
 *   reset; the app's `receive()` yields `http.disconnect`. Streams are bounded per connection by
 *   SETTINGS_MAX_CONCURRENT_STREAMS, so this bounds what one connection can hold;
 * - CONNECT (RFC 9113 §8.5, and RFC 8441's extended CONNECT for WebSockets) is not served: 501;
 * - a stream the client resets (RST_STREAM) is an `http.disconnect` for that request only: a
 *   pending `receive()` gets it, sends become no-ops, other streams go on;
 * - connection-specific response headers (`connection`, `keep-alive`, `proxy-connection`,
 *   `transfer-encoding`, `upgrade`) are dropped, not sent: RFC 9113 §8.2.2 makes them malformed in
 *   HTTP/2 (node would throw), and an app written for HTTP/1.1 must run unchanged;
 * - HEAD, 204 and 304 responses end with the HEADERS frame; a body the app sends for them is dropped;
 * - backpressure: a streamed body's `send()` waits for the stream's 'drain' (HTTP/2 flow control:
 *   the client's window, then the socket);
 * - the response-started invariant: an app that fails (or returns unfinished) after
 *   `http.response.start` gets its stream reset with INTERNAL_ERROR, so the client sees a failed
 *   response, never a complete-looking wrong one; other streams of the connection are unaffected.
 *
 * Deliberately left out: server push (RFC 9113 §8.4; browsers dropped it), trailers,
 * `Expect: 100-continue`, and WebSockets over HTTP/2 (RFC 8441 is not implemented: the server does
 * not advertise SETTINGS_ENABLE_CONNECT_PROTOCOL, so clients open WebSockets over HTTP/1.1).
 *
 * @module
 */
import { constants } from "node:http2";
import type { OutgoingHttpHeaders, ServerHttp2Session, ServerHttp2Stream } from "node:http2";
import type { TLSSocket } from "node:tls";
import type { Address, App, HeaderList, HttpRequestEvent, HttpResponseBodyEvent, HttpScope, Receive, ReceiveEvent, Send, SendEvent } from "./events.js";
import { SENT, receivedNow } from "./events.js";
import { runApp } from "./run-app.js";
import { DISCONNECT, DISCONNECT_PROMISE, FINAL_EMPTY, FINAL_EMPTY_PROMISE } from "./event-constants.js";
import { splitTarget } from "./request-target.js";
import { errorBody } from "./node-error-response.js";
import {
  RESPONSE_COMPLETE,
  RESPONSE_IDLE,
  RESPONSE_STARTED,
  type ResponseState,
  checkSendEvent,
  declaredContentLength,
  responseNotCompleted,
} from "./protocol-state.js";
import { BodyTooLargeError, LaminarError, ProtocolError } from "../../lib/errors.js";
import type { Logger } from "../../lib/logger.js";

const { NGHTTP2_NO_ERROR, NGHTTP2_INTERNAL_ERROR } = constants;

/** Settings shared by every stream of one server. */
export interface NodeHttp2AdapterOptions {
  /** Logger for app failures and protocol misuse. */
  logger: Logger;
  /** Request bodies past this many bytes: 413 (by Content-Length up front, or while streaming). */
  maxBodySize: number;
  /** `:path` longer than this: 414. */
  maxUrlLength: number;
  /**
   * Header list larger than this (RFC 7541 §4.1 sizes: name + value + 32 per field, pseudo-headers
   * included): 431. Default: no check here (nghttp2's SETTINGS_MAX_HEADER_LIST_SIZE only).
   */
  maxHeaderSize?: number;
  /** Time allowed to receive a request's complete body, ms; past it: 408. 0 disables. Default 0. */
  requestTimeout?: number;
  /**
   * Bodies with a content-length up to this many bytes are read before the app runs and handed to
   * it as one final event (as the node:http adapter does, and nginx buffers bodies). Default 0
   * (stream everything).
   */
  prereadLimit?: number;
  /** Lifespan state; each request's `scope.state` is a shallow copy. Omitted: `{}` per request. */
  state?: Record<string, unknown>;
  /**
   * Told when each stream opens and closes, and whether the client reset it before its response
   * completed (the server's idle timeout and rapid-reset bound, CVE-2023-44487, count them).
   */
  observer?: Http2StreamObserver;
}

/** Who hears about streams opening and closing (see {@link NodeHttp2AdapterOptions.observer}). */
export interface Http2StreamObserver {
  streamOpened(session: ServerHttp2Session): void;
  streamClosed(session: ServerHttp2Session, clientReset: boolean): void;
}

/** Where listeners find their exchange (a symbol, so no closure per stream). */
const kExchange = Symbol("laminar.h2exchange");
type StreamWithExchange = ServerHttp2Stream & { [kExchange]?: Http2Exchange };

// Request-body reading states (as in node-http-adapter.ts).
const BODY_UNREAD = 0;
const BODY_READING = 1;
const BODY_DONE = 2;

/**
 * Runs apps for HTTP/2 streams. Create one per server and pass {@link NodeHttp2Adapter.handle}
 * (already bound) as the server's 'stream' listener.
 *
 * @example
 * const adapter = new NodeHttp2Adapter(app, { logger, maxBodySize: 1 << 20, maxUrlLength: 8192 });
 * http2.createServer().on("stream", adapter.handle).listen(0);
 */
export class NodeHttp2Adapter {
  readonly app: App;
  readonly logger: Logger;
  readonly maxBodySize: number;
  readonly maxUrlLength: number;
  readonly maxHeaderSize: number;
  readonly requestTimeout: number;
  readonly prereadLimit: number;
  readonly state: Record<string, unknown> | undefined;
  readonly observer: Http2StreamObserver | undefined;

  constructor(app: App, options: NodeHttp2AdapterOptions) {
    this.app = app;
    this.logger = options.logger;
    this.maxBodySize = options.maxBodySize;
    this.maxUrlLength = options.maxUrlLength;
    this.maxHeaderSize = options.maxHeaderSize ?? Infinity;
    this.requestTimeout = options.requestTimeout ?? 0;
    this.prereadLimit = Math.min(options.prereadLimit ?? 0, options.maxBodySize);
    this.state = options.state;
    this.observer = options.observer;
    this.handle = this.handle.bind(this);
  }

  /** The 'stream' listener: validates what the app cannot handle, then runs the app. */
  handle(stream: ServerHttp2Stream, _headers: unknown, _flags: number, rawHeaders: string[]): void {
    const exchange = new Http2Exchange(this, stream);
    const s = stream as StreamWithExchange;
    s[kExchange] = exchange;
    // Without an 'error' listener a client's RST_STREAM with an error code (node turns it into
    // ERR_HTTP2_STREAM_ERROR on the stream) would be thrown and take the process down.
    stream.on("error", onStreamError);
    stream.on("close", onStreamClose);
    this.observer?.streamOpened(exchange.session);
    const scope = buildScope(exchange, stream, rawHeaders);
    if (typeof scope === "number") {
      respondError(stream, scope, exchange.rejection);
      return;
    }
    if (exchange.contentLength > this.maxBodySize) {
      respondError(stream, 413, undefined);
      return;
    }
    if (this.requestTimeout > 0 && !stream.endAfterHeaders) exchange.bodyTimer = setTimeout(bodyTimedOut, this.requestTimeout, exchange);
    if (exchange.contentLength > 0 && exchange.contentLength <= this.prereadLimit && !stream.endAfterHeaders) {
      // A small body of known length: read it first, run the app with it in hand (its receive()
      // then needs no listener, no pending promise, no wake-up).
      exchange.preread(scope);
      return;
    }
    runApp(this.app, scope, exchange);
  }
}

/**
 * Answers `stream` with `status` and a JSON detail body, then closes it with NO_ERROR so a client
 * still sending a body stops (RFC 9113 §8.1). Nothing is written to a stream already gone.
 */
export function respondError(stream: ServerHttp2Stream, status: number, detail: string | undefined): void {
  if (stream.destroyed || stream.closed || stream.headersSent) return;
  const body = errorBody(status, detail);
  stream.respond({ ":status": status, "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  stream.end(body);
  // Waits for the response to be written (node sends RST_STREAM(NO_ERROR) after 'finish'), and
  // only matters when the request's body is still open.
  if (!stream.readableEnded) stream.close(NGHTTP2_NO_ERROR);
}

/** Per-stream state: the stream, the protocol position, the body reading. */
class Http2Exchange {
  readonly adapter: NodeHttp2Adapter;
  readonly stream: StreamWithExchange;
  /** The stream's connection, kept: node unsets `stream.session` once the stream is destroyed. */
  readonly session: ServerHttp2Session;
  readonly receive: Receive;
  readonly send: Send;
  /** Declared body length; -1 without Content-Length. */
  contentLength = -1;
  /** The detail of a 400 decided while building the scope. */
  rejection: string | undefined = undefined;
  /** HEAD request: the response ends with its headers. */
  head = false;
  responseState: ResponseState = RESPONSE_IDLE;
  bodyState = BODY_UNREAD;
  received = 0;
  /** The client reset the stream, or the server answered by itself: sends become no-ops. */
  dropped = false;
  overflowed = false;
  headWritten = false;
  /** The response's HEADERS frame ended the stream (HEAD, 204, 304): body events are dropped. */
  bodyless = false;
  status = 200;
  headers: HeaderList | null = null;
  /** A declared content-length of a streamed response, and the bytes sent against it. */
  declared = -1;
  sent = 0;
  /** Waiting for one loop turn after the body's end, to tell a real END_STREAM from a reset. */
  confirming = false;
  /** Bounds the time to receive the body (see {@link NodeHttp2AdapterOptions.requestTimeout}). */
  bodyTimer: NodeJS.Timeout | undefined = undefined;
  private pendingResolve: ((event: ReceiveEvent) => void) | null = null;
  private pendingReject: ((err: unknown) => void) | null = null;
  private drainResolve: (() => void) | null = null;
  /** The pre-read body, handed out by the first receive(). */
  private prereadEvent: HttpRequestEvent | null = null;
  /** Pre-read chunks so far, and the scope to run the app with once they are all in. */
  private prereadChunks: Buffer[] | null = null;
  private prereadScope: HttpScope | null = null;

  constructor(adapter: NodeHttp2Adapter, stream: ServerHttp2Stream) {
    this.adapter = adapter;
    this.stream = stream as StreamWithExchange;
    this.session = stream.session as ServerHttp2Session;
    this.receive = this.receiveEvent.bind(this);
    this.send = this.sendEvent.bind(this);
  }

  /** Whether the client reset the stream (not a normal end of the request). */
  reset(): boolean {
    const stream = this.stream;
    return stream.aborted || (stream.closed && stream.rstCode !== NGHTTP2_NO_ERROR);
  }

  // --- receive ---------------------------------------------------------------------------

  receiveEvent(): Promise<ReceiveEvent> {
    const preread = this.prereadEvent;
    if (preread !== null) {
      this.prereadEvent = null;
      // In hand already: an app that recognises it goes on without waiting a microtask.
      return receivedNow(preread);
    }
    if (this.bodyState === BODY_DONE) return this.waitForDisconnect();
    if (this.overflowed) return Promise.reject(new BodyTooLargeError(this.adapter.maxBodySize));
    if (this.dropped) return DISCONNECT_PROMISE;
    const stream = this.stream;
    if (stream.endAfterHeaders) {
      // HEADERS carried END_STREAM: no body (node already ended the readable side).
      this.bodyState = BODY_DONE;
      return FINAL_EMPTY_PROMISE;
    }
    if (this.pendingResolve !== null) {
      return Promise.reject(new ProtocolError("one receive() at a time", "a second concurrent receive()"));
    }
    if (this.bodyState === BODY_UNREAD) {
      this.bodyState = BODY_READING;
      stream.on("readable", onStreamReadable);
      stream.on("end", onStreamEnd);
    }
    const promise = new Promise<ReceiveEvent>((resolve, reject) => {
      this.pendingResolve = resolve;
      this.pendingReject = reject;
    });
    this.wake();
    return promise;
  }

  /** Starts reading a body of known, small length; the app runs once it is all in. */
  preread(scope: HttpScope): void {
    this.prereadScope = scope;
    this.bodyState = BODY_READING;
    this.stream.on("data", onPrereadData);
  }

  /** A chunk of a pre-read body; the one completing the content-length runs the app. */
  prereadData(chunk: Buffer): void {
    if (this.prereadScope === null) return;
    (this.prereadChunks ??= []).push(chunk);
    this.received += chunk.length;
    // nghttp2 resets a stream whose DATA does not add up to its content-length, so the count
    // reaching it is the end of the body (and never passes it).
    if (this.received !== this.contentLength) return;
    const scope = this.prereadScope;
    const chunks = this.prereadChunks;
    this.prereadScope = null;
    this.prereadChunks = null;
    this.stream.removeListener("data", onPrereadData);
    this.bodyState = BODY_DONE;
    this.clearBodyTimer();
    this.prereadEvent = { type: "http.request", body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), moreBody: false };
    runApp(this.adapter.app, scope, this);
  }

  /** The pre-read body will not complete (reset, timeout): the app never runs. */
  private abandonPreread(): void {
    this.prereadScope = null;
    this.prereadChunks = null;
    this.bodyState = BODY_DONE;
    this.stream.removeListener("data", onPrereadData);
  }

  /** Data, the end or a close arrived (or a receive() began): settle a pending receive() if possible. */
  wake(): void {
    const resolve = this.pendingResolve;
    if (resolve === null || this.confirming) return;
    const stream = this.stream;
    let event: ReceiveEvent;
    if (this.reset()) {
      this.dropped = true;
      this.finishBody();
      event = DISCONNECT;
    } else {
      const chunk = stream.read() as Buffer | null;
      if (chunk !== null) {
        this.received += chunk.length;
        if (this.received > this.adapter.maxBodySize) {
          this.pendingResolve = null;
          const reject = this.pendingReject as (err: unknown) => void;
          this.pendingReject = null;
          reject(this.overflow());
          return;
        }
        // With a content-length, the chunk that completes it is the last: nghttp2 resets a stream
        // whose DATA frames do not add up to it (RFC 9113 §8.1.1), so no wait for END_STREAM (and
        // no loop turn to confirm it) is needed.
        const last = this.received === this.contentLength;
        if (last) this.finishBody();
        event = { type: "http.request", body: chunk, moreBody: !last };
      } else if (stream.readableEnded) {
        // node ends the readable side *before* it reports a reset (the EOF and the close come from
        // one native callback, 'end' in between), so a reset body would look complete here. The
        // close is known by the next loop turn: confirm then.
        this.confirming = true;
        setImmediate(confirmEnd, this);
        return;
      } else if (stream.destroyed) {
        this.dropped = true;
        this.finishBody();
        event = DISCONNECT;
      } else {
        return;
      }
    }
    this.pendingResolve = null;
    this.pendingReject = null;
    resolve(event);
  }

  /** One turn after the end of the body: a reset by now means the body was cut off. */
  confirmEnd(): void {
    this.confirming = false;
    const resolve = this.pendingResolve;
    if (resolve === null) return;
    this.pendingResolve = null;
    this.pendingReject = null;
    const reset = this.reset();
    if (reset) this.dropped = true;
    this.finishBody();
    resolve(reset ? DISCONNECT : FINAL_EMPTY);
  }

  private finishBody(): void {
    this.bodyState = BODY_DONE;
    this.clearBodyTimer();
    const stream = this.stream;
    stream.removeListener("readable", onStreamReadable);
    stream.removeListener("end", onStreamEnd);
  }

  /** The streamed body passed maxBodySize: 413 (or a reset once the response started), stop reading. */
  private overflow(): LaminarError {
    this.overflowed = true;
    this.finishBody();
    if (!this.dropped) {
      this.dropped = true;
      if (!this.headWritten) respondError(this.stream, 413, undefined);
      else this.stream.close(NGHTTP2_INTERNAL_ERROR);
    }
    return new BodyTooLargeError(this.adapter.maxBodySize);
  }

  /** After the body: `http.disconnect` once the stream closes (response done, or reset). */
  private waitForDisconnect(): Promise<ReceiveEvent> {
    const stream = this.stream;
    if (this.dropped || stream.closed || stream.destroyed) return DISCONNECT_PROMISE;
    if (this.pendingResolve !== null) {
      return Promise.reject(new ProtocolError("one receive() at a time", "a second concurrent receive()"));
    }
    return new Promise<ReceiveEvent>((resolve, reject) => {
      this.pendingResolve = resolve;
      this.pendingReject = reject;
    });
  }

  clearBodyTimer(): void {
    if (this.bodyTimer !== undefined) clearTimeout(this.bodyTimer);
    this.bodyTimer = undefined;
  }

  /**
   * The body was not complete within requestTimeout. Whether it is complete is read from the
   * readable side's `ended` flag (END_STREAM pushed, perhaps not yet read by the app): node has no
   * public flag for "ended but not consumed", and an app slow to read a body that did arrive must
   * not get a 408.
   */
  bodyTimedOut(): void {
    this.bodyTimer = undefined;
    const stream = this.stream;
    const readable = (stream as unknown as { _readableState?: { ended?: boolean } })._readableState;
    if (stream.closed || stream.destroyed || stream.readableEnded || readable?.ended === true) return;
    this.adapter.logger.debug({ timeout: this.adapter.requestTimeout }, "http2 request body timed out");
    if (this.prereadScope !== null) {
      // The app has not run: answer for it.
      this.abandonPreread();
      this.dropped = true;
      respondError(stream, 408, undefined);
      return;
    }
    const wasDropped = this.dropped;
    this.dropped = true;
    if (!wasDropped) {
      if (!this.headWritten) respondError(stream, 408, undefined);
      else stream.close(this.responseState === RESPONSE_COMPLETE ? NGHTTP2_NO_ERROR : constants.NGHTTP2_CANCEL);
    }
    const resolve = this.pendingResolve;
    if (resolve !== null && !this.confirming) {
      this.pendingResolve = null;
      this.pendingReject = null;
      this.finishBody();
      resolve(DISCONNECT);
    }
  }

  /** The stream closed (response done, reset, or session gone). */
  closed(): void {
    this.clearBodyTimer();
    const stream = this.stream;
    const clientReset = this.responseState !== RESPONSE_COMPLETE && stream.rstCode !== NGHTTP2_NO_ERROR && !this.dropped;
    if (clientReset) this.dropped = true;
    if (this.prereadScope !== null) {
      // Closed before the pre-read body was complete: nobody to answer, the app never runs.
      this.abandonPreread();
      this.dropped = true;
    }
    this.adapter.observer?.streamClosed(this.session, clientReset);
    this.drained();
    if (this.pendingResolve === null) return;
    if (this.bodyState === BODY_DONE) {
      const resolve = this.pendingResolve;
      this.pendingResolve = null;
      this.pendingReject = null;
      resolve(DISCONNECT);
    } else {
      this.wake();
    }
  }

  // --- send ------------------------------------------------------------------------------

  sendEvent(event: SendEvent): Promise<void> {
    const invalid = checkSendEvent(this.responseState, event);
    if (invalid !== null) return Promise.reject(invalid);
    if (event.type === "http.response.start") {
      this.status = event.status;
      this.headers = event.headers;
      this.responseState = RESPONSE_STARTED;
      return SENT;
    }
    const bodyEvent = event as HttpResponseBodyEvent;
    const more = bodyEvent.moreBody === true;
    const body = bodyEvent.body;
    if (!more) this.responseState = RESPONSE_COMPLETE;
    const stream = this.stream;
    if (this.dropped || stream.destroyed || stream.closed) return SENT;
    if (!this.headWritten) {
      let length = -1;
      if (!more) length = body === undefined ? 0 : typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
      try {
        this.writeHead(length, !more && length === 0);
      } catch (err) {
        // node rejected a header (invalid name or value): nothing reached the wire, so the
        // response is back to idle and an error layer (or the fallback) can still answer 500.
        this.responseState = RESPONSE_IDLE;
        return Promise.reject(new ProtocolError("valid response header names and values", (err as Error).message));
      }
      if (!more && length === 0) return SENT;
    }
    if (this.bodyless) return SENT;
    if (this.declared >= 0) {
      this.sent += body === undefined ? 0 : typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
      if (this.sent > this.declared || (!more && this.sent !== this.declared)) {
        // More or fewer bytes than the declared content-length: reset rather than frame garbage
        // (nghttp2 would treat the mismatch as a protocol error on the client side, RFC 9113 §8.1.1).
        this.responseState = RESPONSE_STARTED;
        this.abortResponse();
        return Promise.reject(new ProtocolError("a body of its declared content-length", `${this.sent} bytes against ${this.declared}`));
      }
    }
    if (more) {
      if (body === undefined || body.length === 0) return SENT;
      if (stream.write(body)) return SENT;
      return this.waitForDrain();
    }
    stream.end(body);
    return SENT;
  }

  /**
   * Sends the HEADERS frame. `length` ≥ 0 (a whole response) adds content-length unless the app
   * framed it or the status forbids a body (RFC 9110 §8.6); `end` ends the stream with it.
   */
  private writeHead(length: number, end: boolean): void {
    const status = this.status;
    const headers = toHttp2Headers(this.headers as HeaderList, status);
    const noBody = this.head || status === 204 || status === 304 || (status >= 100 && status < 200);
    if (length >= 0 && !lastListFramed && status >= 200 && status !== 204 && status !== 304) headers["content-length"] = length;
    if (length < 0 && lastListFramed) this.declared = declaredContentLength(this.headers as HeaderList) ?? -1;
    this.stream.respond(headers, { endStream: end || noBody });
    this.headWritten = true;
    if (noBody) {
      this.bodyless = true;
      this.declared = -1;
    }
  }

  private waitForDrain(): Promise<void> {
    this.stream.on("drain", onStreamDrain);
    return new Promise<void>((resolve) => {
      this.drainResolve = resolve;
    });
  }

  /** 'drain' or 'close' after a write returned false: let the app's send() resolve. */
  drained(): void {
    const resolve = this.drainResolve;
    if (resolve === null) return;
    this.drainResolve = null;
    this.stream.removeListener("drain", onStreamDrain);
    resolve();
  }

  // --- after the app -----------------------------------------------------------------------

  appReturned(scope: HttpScope): void {
    const state = this.responseState;
    if (state === RESPONSE_COMPLETE) return;
    if (this.dropped || this.stream.destroyed) return;
    const err = responseNotCompleted(state) as LaminarError;
    this.adapter.logger.error({ err, method: scope.method, path: scope.rawPath }, err.message);
    this.abortResponse();
  }

  appFailed(scope: HttpScope, err: unknown): void {
    const logger = this.adapter.logger;
    if (this.overflowed && err instanceof BodyTooLargeError) {
      logger.debug({ err, method: scope.method, path: scope.rawPath }, "request body too large");
    } else {
      logger.error({ err, method: scope.method, path: scope.rawPath }, "app failed");
    }
    if (this.responseState !== RESPONSE_COMPLETE && !this.dropped && !this.stream.destroyed) this.abortResponse();
  }

  /** Before the response started: a generic 500. After: reset the stream (this request only). */
  private abortResponse(): void {
    const stream = this.stream;
    const state = this.responseState;
    this.responseState = RESPONSE_COMPLETE;
    this.dropped = true;
    if (state === RESPONSE_IDLE && !this.headWritten && !stream.headersSent) {
      respondError(stream, 500, undefined);
    } else {
      stream.close(NGHTTP2_INTERNAL_ERROR);
    }
  }
}

// --- listeners (module-level: `this` is the stream, the exchange hangs off a symbol) -------------

function onStreamError(this: StreamWithExchange, err: Error): void {
  this[kExchange]?.adapter.logger.debug({ err: { code: (err as NodeJS.ErrnoException).code, message: err.message } }, "http2 stream error");
}
function onStreamClose(this: StreamWithExchange): void {
  this[kExchange]?.closed();
}
function onStreamReadable(this: StreamWithExchange): void {
  this[kExchange]?.wake();
}
function onStreamEnd(this: StreamWithExchange): void {
  this[kExchange]?.wake();
}
function onStreamDrain(this: StreamWithExchange): void {
  this[kExchange]?.drained();
}
function onPrereadData(this: StreamWithExchange, chunk: Buffer): void {
  this[kExchange]?.prereadData(chunk);
}
function confirmEnd(exchange: Http2Exchange): void {
  exchange.confirmEnd();
}
function bodyTimedOut(exchange: Http2Exchange): void {
  exchange.bodyTimedOut();
}

// --- headers -----------------------------------------------------------------------------------

/** Whether the list last converted by {@link toHttp2Headers} framed the body (content-length). */
let lastListFramed = false;

/**
 * Response headers of HTTP/1.1 that are malformed in HTTP/2 (RFC 9113 §8.2.2); dropped. `te` is
 * a request header (and only `trailers` is allowed there), so it is not looked for here.
 */
const CONNECTION_SPECIFIC = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"]);

/**
 * The app's header list as node's HTTP/2 header object, `:status` included. Names are lower-cased
 * (HTTP/2 requires it, RFC 9113 §8.2.1); repeated names become arrays (one field each, as
 * `set-cookie` needs).
 */
function toHttp2Headers(list: HeaderList, status: number): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = { ":status": status };
  lastListFramed = false;
  for (let i = 0; i < list.length; i++) {
    const pair = list[i];
    let name = pair[0];
    const value = pair[1];
    if (typeof name !== "string" || typeof value !== "string") {
      throw new TypeError(`header ${JSON.stringify(name)} must be a [string, string] pair`);
    }
    if (name === "__proto__") throw new TypeError('header name "__proto__" is not allowed');
    if (name.charCodeAt(0) === 58 /* : */) throw new TypeError(`pseudo-header ${JSON.stringify(name)} cannot be set by the app`);
    const len = name.length;
    if (len === 7 || len === 10 || len === 14 || len === 16 || len === 17) {
      name = name.toLowerCase();
      if (CONNECTION_SPECIFIC.has(name)) continue;
      if (name === "content-length") lastListFramed = true;
    }
    const prev = out[name];
    if (prev === undefined) out[name] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[name] = [String(prev), value];
  }
  return out;
}

// --- scope -------------------------------------------------------------------------------------

/** Where a session's addresses are cached (shared by all its streams). */
const kAddresses = Symbol("laminar.h2addresses");
type SessionWithAddresses = ServerHttp2Session & { [kAddresses]?: { client: Address | null; server: Address | null; https: boolean } };

function addressesOf(session: ServerHttp2Session): { client: Address | null; server: Address | null; https: boolean } {
  const s = session as SessionWithAddresses;
  const cached = s[kAddresses];
  if (cached !== undefined) return cached;
  const socket = session.socket;
  const addresses = {
    client: socket.remoteAddress === undefined ? null : (Object.freeze([socket.remoteAddress, socket.remotePort as number]) as Address),
    server: socket.localAddress === undefined ? null : (Object.freeze([socket.localAddress, socket.localPort as number]) as Address),
    https: (socket as TLSSocket).encrypted === true,
  };
  s[kAddresses] = addresses;
  return addresses;
}

/**
 * Builds the scope from the raw header list (pseudo-headers first, as HTTP/2 requires; nghttp2
 * already refused a request with a missing, repeated or misplaced pseudo-header, RFC 9113 §8.3).
 * Returns a status (400, 414, 501) instead when the request cannot reach the app.
 */
function buildScope(exchange: Http2Exchange, stream: ServerHttp2Stream, raw: string[]): HttpScope | number {
  const n = raw.length;
  const headers: HeaderList = [];
  let method = "";
  let target = "";
  let authority: string | undefined;
  let host: string | undefined;
  let hostCount = 0;
  let cookie: [string, string] | undefined;
  let size = 0;
  for (let i = 0; i < n; i += 2) {
    const name = raw[i];
    const value = raw[i + 1];
    size += name.length + value.length + 32;
    if (name.charCodeAt(0) === 58 /* : */) {
      if (name === ":method") method = value;
      else if (name === ":path") target = value;
      else if (name === ":authority") authority = value;
      continue;
    }
    if (name.length === 6 && name === "cookie") {
      if (cookie === undefined) {
        cookie = ["cookie", value];
        headers.push(cookie);
      } else {
        cookie[1] += "; " + value;
      }
      continue;
    }
    if (name.length === 14 && name === "content-length") {
      // nghttp2 checks the DATA frames against it (RFC 9113 §8.1.1); a non-number is rejected there.
      exchange.contentLength = Number(value);
    } else if (name.length === 4 && name === "host") {
      host = value;
      hostCount++;
    }
    headers.push([name, value]);
  }
  // nghttp2 enforces SETTINGS_MAX_HEADER_LIST_SIZE only once the client has acknowledged the
  // server's SETTINGS; a client that never does would get node's default (64 KiB). Counted here too.
  if (size > exchange.adapter.maxHeaderSize) return 431;
  if (method === "CONNECT") return 501;
  exchange.head = method === "HEAD";
  if (authority !== undefined) {
    // RFC 9113 §8.3.1: a Host naming another authority makes the request malformed.
    if (host !== undefined && (hostCount > 1 || host !== authority)) {
      exchange.rejection = "Host does not match :authority";
      return 400;
    }
    if (host === undefined) headers.unshift(["host", authority]);
  } else if (hostCount !== 1) {
    // Defence in depth: nghttp2 already refuses these streams (PROTOCOL_ERROR, tested).
    exchange.rejection = hostCount === 0 ? "Missing :authority and Host" : "More than one Host header";
    return 400;
  }
  if (target.length > exchange.adapter.maxUrlLength) return 414;
  const { rawPath, queryString, path } = splitTarget(target);
  if (path === null) {
    exchange.rejection = "Malformed percent-encoding in the request path";
    return 400;
  }
  const addresses = addressesOf(exchange.session);
  const adapterState = exchange.adapter.state;
  return {
    type: "http",
    method,
    path,
    rawPath,
    queryString,
    headers,
    httpVersion: "2",
    scheme: addresses.https ? "https" : "http",
    client: addresses.client,
    server: addresses.server,
    rootPath: "",
    state: adapterState === undefined ? {} : { ...adapterState },
    pathParams: undefined,
    extensions: undefined,
  };
}
