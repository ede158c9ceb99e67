/**
 * Layer 2 for uWebSockets.js: turns one uWS `HttpResponse`/`HttpRequest` pair into
 * `(scope, receive, send)`, runs the app, and enforces the event protocol exactly as
 * {@link NodeHttpAdapter} does (same protocol state machine, same error bodies, same
 * response-started rule).
 *
 * uWS rules this file follows (breaking them crashes the process or corrupts the stream):
 * - the request object lives only during the handler's synchronous part: method, url, query and
 *   headers are copied once, in one `forEach`, before anything else;
 * - `res.onAborted` is attached before the handler returns unless the handler already answered
 *   (it is attached after the app's synchronous part, so a synchronous answer skips it);
 *   after it fires, or after a successful `end`, `res` is never touched again (`gone`);
 * - the body must be taken in the handler too (`onData`), or uWS drops it: chunks are copied
 *   (uWS neuters the ArrayBuffer after the callback) into a queue that `receive()` drains; a queue
 *   past {@link BODY_HIGH_WATER} pauses the socket until the app reads, except while a send()
 *   waits for `onWritable` (uWS's pause stops writes too, so the response would never drain);
 * - every write is inside `res.cork()` (outside the handler an uncorked write is a syscall each);
 * - streamed responses wait for `onWritable` when `write` reports backpressure, so a slow reader
 *   holds at most one chunk in uWS's buffer.
 *
 * Differences from node:http that apps can see (see the README and the conformance skips):
 * `scope.client` has port 0 (this uWS build exposes no remote port) and is read on first use (null
 * when first read after the response has ended); `httpVersion` is always
 * "1.1" (uWS answers HTTP/1.0 with 505); an app's content-length/transfer-encoding header is
 * replaced by uWS's own framing: content-length for a single body; for a streamed body,
 * content-length when the app declared one (a file), written with `tryEnd` (see `writeSized`),
 * else chunked.
 *
 * @module
 */
import type { HttpRequest, HttpResponse } from "uWebSockets.js";
import type {
  Address,
  App,
  HeaderList,
  HttpRequestEvent,
  HttpResponseBodyEvent,
  HttpScope,
  Receive,
  ReceiveEvent,
  Send,
  SendEvent,
} from "./events.js";
import { SENT, receivedNow } from "./events.js";
import { runApp } from "./run-app.js";
import { DISCONNECT, DISCONNECT_PROMISE, FINAL_EMPTY, FINAL_EMPTY_PROMISE } from "./event-constants.js";
import type { Logger } from "../../lib/logger.js";
import { BodyTooLargeError, LaminarError, ProtocolError } from "../../lib/errors.js";
import {
  RESPONSE_COMPLETE,
  RESPONSE_IDLE,
  RESPONSE_STARTED,
  type ResponseState,
  checkSendEvent,
  declaredContentLength,
  responseNotCompleted,
} from "./protocol-state.js";
import { statusLine, writeUwsError, writeUwsResponse } from "./uws-error-response.js";
import { peerAddress } from "./uws-address.js";
import { checkHandshake, isWebSocketUpgrade } from "./websocket-handshake.js";
import { errorBody } from "./node-error-response.js";
import { invalidHeader, isFramingHeader } from "./uws-headers.js";

/** Settings shared by every request of one server. */
export interface UwsAdapterOptions {
  logger: Logger;
  maxBodySize: number;
  /** Request target (path + `?` + query) longer than this: 414. */
  maxUrlLength: number;
  /** Request line plus headers larger than this: 431 (counted from what uWS parsed). */
  maxHeaderSize: number;
  /** A request whose body has not fully arrived this long after its headers: 408. 0 disables. */
  requestTimeout: number;
  /** The local address the server listens on (uWS has no per-connection local address). */
  serverAddress: Address;
  state?: Record<string, unknown>;
  /** The server speaks TLS: scopes say `https`. */
  secure?: boolean;
  /**
   * Bodies with a Content-Length up to this many bytes are collected before the app runs, and
   * `receive()` hands them over in one event the app can read at once (`receivedNow`), so a JSON
   * route answers inside the `onData` callback. Larger and chunked bodies stream. Default 0.
   */
  prereadLimit?: number;
}

/** Queued request-body bytes past which the socket is paused until the app reads. */
const BODY_HIGH_WATER = 64 * 1024;

const RESOLVED: Promise<void> = SENT;

/**
 * Runs apps for uWS requests. One per server; register {@link UwsAdapter.handle} (bound) with
 * `app.any("/*", adapter.handle)`.
 */
export class UwsAdapter {
  /** Set by the server when it starts closing: responses from then on carry `connection: close`. */
  closing = false;
  /** True while uWS's handler runs (uWS has corked the socket itself). */
  inHandler = false;
  /** Requests whose response is neither ended nor aborted. */
  inFlight = 0;
  /** Called when {@link inFlight} drops to 0 (the server's graceful close waits on it). */
  onIdle: (() => void) | null = null;
  readonly app: App;
  readonly options: UwsAdapterOptions;

  /** {@link UwsAdapterOptions.prereadLimit}, resolved once. */
  private readonly prereadLimit: number;

  constructor(app: App, options: UwsAdapterOptions) {
    this.app = app;
    this.options = options;
    this.prereadLimit = options.prereadLimit ?? 0;
    this.handle = this.handle.bind(this);
  }

  /** The uWS route handler. Everything read from `req` is read here, synchronously. */
  handle(res: HttpResponse, req: HttpRequest): void {
    const options = this.options;
    const method = req.getCaseSensitiveMethod();
    const rawPath = req.getUrl();
    // Typed as string, but this build returns undefined when there is no `?`.
    const queryString = (req.getQuery() as string | undefined) ?? "";
    const headers: HeaderList = [];
    let headerBytes = method.length + rawPath.length + queryString.length + 12; // "M P?Q HTTP/1.1\r\n"
    let contentLength = -1;
    let hasBody = false;
    let hostCount = 0;
    let upgrade = false;
    req.forEach((name, value) => {
      headers.push([name, value]);
      headerBytes += name.length + value.length + 4;
      if (name.length === 14 && name === "content-length") {
        contentLength = Number(value);
        if (contentLength > 0) hasBody = true;
      } else if (name.length === 17 && name === "transfer-encoding") {
        hasBody = true;
      } else if (name.length === 4 && name === "host") {
        hostCount++;
      } else if (name.length === 7 && name === "upgrade") {
        upgrade = true;
      }
    });
    // uWS's own header limit is a compile-time constant (far above 16 KiB in this build, answered
    // with an HTML 431); the configured limit is applied here, to what uWS parsed.
    if (headerBytes > options.maxHeaderSize) return writeUwsError(res, 431, undefined, true);
    // RFC 9112 §3 / RFC 9110 §15.5.15.
    if (rawPath.length + (queryString === "" ? 0 : queryString.length + 1) > options.maxUrlLength) {
      return writeUwsError(res, 414, undefined, true);
    }
    let path = rawPath;
    if (rawPath.indexOf("%") !== -1) {
      try {
        path = decodeURIComponent(rawPath);
      } catch {
        return writeUwsError(res, 400, "Malformed percent-encoding in the request path", true);
      }
    }
    if (hostCount !== 1) {
      // RFC 9112 §3.2 (uWS only speaks HTTP/1.1, so Host is always required).
      return writeUwsError(res, 400, hostCount === 0 ? "Missing Host header" : "More than one Host header", true);
    }
    if (contentLength > options.maxBodySize) return writeUwsError(res, 413, undefined, true);
    // uWS routes a WebSocket handshake to the WebSocket handler only when it is well formed; a
    // malformed one lands here and gets the same answer as on node:http (400/405/426), not a 404.
    if (upgrade) {
      const handshake = checkHandshake(method, headers);
      if (!handshake.ok && isWebSocketUpgrade(headers)) {
        return writeUwsResponse(res, handshake.status, [["content-type", "application/json"], ...handshake.headers], errorBody(handshake.status, handshake.detail));
      }
    }

    const exchange = new UwsExchange(this, res, method === "HEAD", hasBody);
    this.inFlight++;
    const state = options.state;
    const scope = new UwsHttpScope(
      exchange,
      method,
      path,
      rawPath,
      queryString,
      headers,
      options.secure === true ? "https" : "http",
      options.serverAddress,
      state === undefined ? {} : { ...state },
    );
    if (hasBody) {
      // uWS hands the body to onData only after this handler returns: a small body of known length
      // is collected first and the app runs once it is whole (onData), as node:http's pre-read.
      if (contentLength > 0 && contentLength <= this.prereadLimit) {
        exchange.startBody(scope);
        res.onAborted(exchange.aborted);
        return;
      }
      exchange.startBody(null);
    }
    // uWS corks the socket for the duration of its handler: a response the app completes
    // synchronously needs no cork() call (and no closure) of its own.
    this.inHandler = true;
    runApp(this.app, scope, exchange);
    this.inHandler = false;
    // After the app's synchronous part: a response it already ended needs no abort handler (and
    // uWS only requires one when the handler returns with the response still open).
    if (!exchange.gone) res.onAborted(exchange.aborted);
  }

  /**
   * Exchanges waiting for their body, checked against their deadline by one timer: an intrusive
   * doubly-linked list through the exchanges (no hashing or allocation per request, unlike a Set).
   */
  private waitingHead: UwsExchange | null = null;
  private sweeper: NodeJS.Timeout | null = null;

  /**
   * Starts watching `exchange`'s body deadline. One interval per adapter (a few checks per
   * requestTimeout, as node's connectionsCheckingInterval) instead of a timer per request.
   */
  awaitBody(exchange: UwsExchange): void {
    const head = this.waitingHead;
    exchange.nextWaiting = head;
    exchange.prevWaiting = null;
    if (head !== null) head.prevWaiting = exchange;
    this.waitingHead = exchange;
    if (this.sweeper === null) {
      const every = Math.max(10, Math.min(1_000, Math.floor(this.options.requestTimeout / 4)));
      this.sweeper = setInterval(() => this.sweepDeadlines(), every).unref();
    }
  }

  /** `exchange` no longer waits for its body (complete, aborted or answered). */
  bodyArrived(exchange: UwsExchange): void {
    const { prevWaiting: prev, nextWaiting: next } = exchange;
    if (prev !== null) prev.nextWaiting = next;
    else if (this.waitingHead === exchange) this.waitingHead = next;
    if (next !== null) next.prevWaiting = prev;
    exchange.prevWaiting = null;
    exchange.nextWaiting = null;
  }

  /** Stops the deadline timer (the server is closed). */
  stop(): void {
    if (this.sweeper !== null) clearInterval(this.sweeper);
    this.sweeper = null;
  }

  private sweepDeadlines(): void {
    const now = Date.now();
    for (let exchange = this.waitingHead; exchange !== null; ) {
      const next = exchange.nextWaiting;
      if (exchange.deadline !== 0 && exchange.deadline <= now) {
        this.bodyArrived(exchange);
        exchange.timedOut();
      }
      exchange = next;
    }
  }


  /** An exchange's response is over (ended, aborted or answered by the adapter). */
  released(): void {
    this.inFlight--;
    if (this.inFlight === 0 && this.onIdle !== null) this.onIdle();
  }
}

/**
 * The scope of a uWS request. A class only so that `client` can be read on first use: uWS asks
 * the kernel (getpeername) on every call, about 3 µs a request that most apps never spend. An
 * accessor on an object literal would cost half of that again (V8 defines literal accessors at
 * runtime), one on the prototype costs nothing. Every other field is a plain own property.
 *
 * A prototype accessor is not copied by `{ ...scope }`: code that copies a scope must copy
 * `client` by name, as the router's mounts do.
 */
class UwsHttpScope implements HttpScope {
  readonly type = "http" as const;
  method: string;
  path: string;
  rawPath: string;
  queryString: string;
  headers: HeaderList;
  httpVersion: "1.1" = "1.1";
  scheme: "http" | "https";
  server: Address | null;
  rootPath = "";
  state: Record<string, unknown>;
  pathParams: Record<string, string> | undefined = undefined;
  extensions: Record<string, unknown> | undefined = undefined;
  readonly #exchange: UwsExchange;

  constructor(
    exchange: UwsExchange,
    method: string,
    path: string,
    rawPath: string,
    queryString: string,
    headers: HeaderList,
    scheme: "http" | "https",
    server: Address,
    state: Record<string, unknown>,
  ) {
    this.#exchange = exchange;
    this.method = method;
    this.path = path;
    this.rawPath = rawPath;
    this.queryString = queryString;
    this.headers = headers;
    this.scheme = scheme;
    this.server = server;
    this.state = state;
  }

  /** The peer's address (port 0: this uWS build exposes none); null when first read after the response ended. */
  get client(): Address | null {
    return this.#exchange.client();
  }
  set client(value: Address | null) {
    this.#exchange.setClient(value);
  }
}

const BODY_UNREAD = 0;
const BODY_READING = 1;
const BODY_DONE = 2;

/** Per-request state. */
class UwsExchange {
  readonly adapter: UwsAdapter;
  readonly res: HttpResponse;
  readonly receive: Receive;
  readonly send: Send;
  /** Bound once: the onAborted handler. */
  readonly aborted: () => void;
  readonly isHead: boolean;
  readonly hasBody: boolean;
  responseState: ResponseState = RESPONSE_IDLE;
  bodyState = BODY_UNREAD;
  /** `res` is invalid (aborted, ended, closed): never touch it again. */
  gone = false;
  /** The client left: sends are no-ops, receive yields disconnect. */
  disconnected = false;
  /** Nothing more may be written by the app (gone, or the adapter answered by itself). */
  dropped = false;
  overflowed = false;
  headWritten = false;
  status = 200;
  headers: HeaderList | null = null;
  private counted = true;
  private peer: Address | null | undefined = undefined;
  private chunks: Uint8Array[] = [];
  private queued = 0;
  private received = 0;
  private lastArrived = false;
  private paused = false;
  /** When the body must have arrived (ms since epoch); 0 when no deadline runs. */
  deadline = 0;
  /** Links in the adapter's list of exchanges waiting for their body. */
  prevWaiting: UwsExchange | null = null;
  nextWaiting: UwsExchange | null = null;
  private pendingResolve: ((event: ReceiveEvent) => void) | null = null;
  private pendingReject: ((err: unknown) => void) | null = null;
  private drainResolve: (() => void) | null = null;
  /** A streamed body of a declared length: that length (uWS frames it with content-length); -1 when chunked. */
  private sizedTotal = -1;
  /** Bytes of a sized body handed to uWS so far. */
  private sizedSent = 0;
  /** uWS ended the sized body (its last declared byte went out). */
  private sizedComplete = false;
  /** Set while a pre-read body is being collected: the app runs with this scope when it is whole. */
  private prereadScope: UwsHttpScope | null = null;

  constructor(adapter: UwsAdapter, res: HttpResponse, isHead: boolean, hasBody: boolean) {
    this.adapter = adapter;
    this.res = res;
    this.isHead = isHead;
    this.hasBody = hasBody;
    this.receive = this.receiveEvent.bind(this);
    this.send = this.sendEvent.bind(this);
    this.aborted = this.onAborted.bind(this);
  }

  /** The peer's address, read from uWS once; null when first asked after `res` was gone. */
  client(): Address | null {
    if (this.peer === undefined) this.peer = this.gone ? null : [peerAddress(this.res.getRemoteAddressAsText()), 0];
    return this.peer;
  }

  /** A middleware replaced the client (a proxy-headers layer, say). */
  setClient(value: Address | null): void {
    this.peer = value;
  }

  // --- lifecycle ---------------------------------------------------------------------------

  /**
   * Attaches the body reader (must happen inside the handler) and the request timeout. With
   * `prereadScope`, the app is run with it once the whole body is in.
   */
  startBody(prereadScope: UwsHttpScope | null): void {
    this.prereadScope = prereadScope;
    this.res.onData((chunk, isLast) => this.onData(chunk, isLast));
    const timeout = this.adapter.options.requestTimeout;
    if (timeout > 0) {
      this.deadline = Date.now() + timeout;
      this.adapter.awaitBody(this);
    }
  }

  private onAborted(): void {
    this.gone = true;
    this.disconnected = true;
    this.dropped = true;
    this.clearTimer();
    this.release();
    this.wakeDisconnect();
    this.resolveDrain();
  }

  /** `res` is done with: count it out of the in-flight set once. */
  private release(): void {
    if (!this.counted) return;
    this.counted = false;
    this.adapter.released();
  }

  private clearTimer(): void {
    if (this.deadline !== 0) {
      this.deadline = 0;
      this.adapter.bodyArrived(this);
    }
  }

  /** The body did not arrive within requestTimeout: 408 (if nothing was sent) and close. */
  timedOut(): void {
    this.deadline = 0;
    if (this.gone || this.lastArrived) return;
    this.disconnected = true;
    this.dropped = true;
    if (!this.headWritten) {
      this.finishResponse(() => writeUwsError(this.res, 408, undefined, true));
    } else {
      this.gone = true;
      this.res.close();
    }
    this.release();
    this.wakeDisconnect();
    this.resolveDrain();
  }

  // --- receive ---------------------------------------------------------------------------

  private onData(ab: ArrayBuffer, isLast: boolean): void {
    if (this.gone || this.overflowed) return;
    const length = ab.byteLength;
    this.received += length;
    if (isLast) {
      this.lastArrived = true;
      this.clearTimer();
    }
    if (this.received > this.adapter.options.maxBodySize) {
      this.overflow();
      return;
    }
    // uWS neuters the ArrayBuffer when this callback returns: copy.
    if (length > 0) {
      // Into node's Buffer pool (small chunks share a slab): cheaper than a new ArrayBuffer each.
      const copy = Buffer.allocUnsafe(length);
      copy.set(new Uint8Array(ab));
      this.chunks.push(copy);
      this.queued += length;
    }
    // Not while a send() waits for onWritable: pausing would stop that event too (see waitForWritable).
    if (!isLast && this.queued > BODY_HIGH_WATER && !this.paused && this.drainResolve === null) {
      this.paused = true;
      this.res.pause();
    }
    const scope = this.prereadScope;
    if (scope === null) {
      this.wake();
      return;
    }
    if (!isLast) return;
    // The pre-read body is whole: one chunk, then the app (its first receive() gets it at once).
    this.prereadScope = null;
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.queued)];
    runApp(this.adapter.app, scope, this);
  }

  /** `receive()`: the next body chunk, then (once the body is done) a disconnect when it happens. */
  receiveEvent(): Promise<ReceiveEvent> {
    if (this.bodyState === BODY_DONE) return this.waitForDisconnect();
    if (this.overflowed) return Promise.reject(new BodyTooLargeError(this.adapter.options.maxBodySize));
    if (this.disconnected) {
      this.bodyState = BODY_DONE;
      return DISCONNECT_PROMISE;
    }
    if (!this.hasBody) {
      this.bodyState = BODY_DONE;
      return FINAL_EMPTY_PROMISE;
    }
    if (this.pendingResolve !== null) {
      return Promise.reject(new ProtocolError("one receive() at a time", "a second concurrent receive()"));
    }
    this.bodyState = BODY_READING;
    const event = this.nextEvent();
    // In hand already (a pre-read body, or chunks that arrived before this call): readable at once.
    if (event !== null) return receivedNow(event);
    return new Promise<ReceiveEvent>((resolve, reject) => {
      this.pendingResolve = resolve;
      this.pendingReject = reject;
    });
  }

  /** The next queued body event, or null when nothing is available yet. */
  private nextEvent(): HttpRequestEvent | null {
    const chunk = this.chunks.shift();
    if (chunk === undefined) {
      if (!this.lastArrived) return null;
      this.bodyState = BODY_DONE;
      return FINAL_EMPTY;
    }
    this.queued -= chunk.length;
    if (this.paused && this.queued <= BODY_HIGH_WATER / 2 && !this.gone) {
      this.paused = false;
      this.res.resume();
    }
    const last = this.lastArrived && this.chunks.length === 0;
    if (last) this.bodyState = BODY_DONE;
    return { type: "http.request", body: chunk, moreBody: !last };
  }

  /** Data arrived: settle a pending receive. */
  private wake(): void {
    const resolve = this.pendingResolve;
    if (resolve === null || this.bodyState !== BODY_READING) return;
    const event = this.nextEvent();
    if (event === null) return;
    this.pendingResolve = null;
    this.pendingReject = null;
    resolve(event);
  }

  /** The client left (or the response completed): a pending receive yields http.disconnect. */
  private wakeDisconnect(): void {
    const resolve = this.pendingResolve;
    if (resolve === null) return;
    this.pendingResolve = null;
    this.pendingReject = null;
    this.bodyState = BODY_DONE;
    resolve(DISCONNECT);
  }

  /** The streamed body passed maxBodySize: receive() rejects, the client gets 413, the connection closes. */
  private overflow(): void {
    this.overflowed = true;
    this.chunks = [];
    this.clearTimer();
    if (!this.dropped) {
      this.dropped = true;
      if (!this.headWritten) {
        this.finishResponse(() => writeUwsError(this.res, 413, undefined, true));
      } else {
        this.gone = true;
        this.res.close();
      }
      this.release();
    }
    const reject = this.pendingReject;
    if (reject !== null) {
      this.pendingResolve = null;
      this.pendingReject = null;
      this.bodyState = BODY_DONE;
      reject(new BodyTooLargeError(this.adapter.options.maxBodySize));
    }
  }

  private waitForDisconnect(): Promise<ReceiveEvent> {
    if (this.disconnected || this.responseState === RESPONSE_COMPLETE || this.gone) return DISCONNECT_PROMISE;
    if (this.pendingResolve !== null) {
      return Promise.reject(new ProtocolError("one receive() at a time", "a second concurrent receive()"));
    }
    return new Promise<ReceiveEvent>((resolve, reject) => {
      this.pendingResolve = resolve;
      this.pendingReject = reject;
    });
  }

  // --- send ------------------------------------------------------------------------------

  /** `send()`: the same checks, in the same order, as the node adapter. */
  sendEvent(event: SendEvent): Promise<void> {
    const invalid = checkSendEvent(this.responseState, event);
    if (invalid !== null) return Promise.reject(invalid);
    if (event.type === "http.response.start") {
      this.status = event.status;
      this.headers = event.headers;
      this.responseState = RESPONSE_STARTED;
      return RESOLVED;
    }
    const bodyEvent = event as HttpResponseBodyEvent;
    const more = bodyEvent.moreBody === true;
    const body = bodyEvent.body;
    if (!this.headWritten) {
      // Checked before anything is written (uWS would write it verbatim): nothing reached the wire,
      // so the response goes back to idle and a 500 can still be sent.
      const bad = invalidHeader(this.headers as HeaderList);
      if (bad !== null) {
        this.responseState = RESPONSE_IDLE;
        return Promise.reject(new ProtocolError("valid response header names and values", bad));
      }
    }
    if (!more) this.responseState = RESPONSE_COMPLETE;
    // A sized body already complete (uWS ended it at its last declared byte): more is an app error,
    // as on node:http (the bytes are not sent; the response on the wire is whole and correct).
    if (this.sizedComplete && byteLength(body) > 0) {
      return Promise.reject(new ProtocolError(`a body of its declared content-length (${this.sizedTotal} bytes)`, "more bytes after it"));
    }
    // The client left, or the server already answered (413, 408): nothing to write, nothing to throw.
    if (this.dropped) return RESOLVED;
    if (!this.headWritten && !more) {
      this.writeWhole(body);
      return RESOLVED;
    }
    if (this.sizedTotal >= 0 || (!this.headWritten && this.startsSized())) return this.writeSized(body, more);
    const res = this.res;
    if (more) {
      let ok = true;
      const writeBody = !this.isHead && body !== undefined && body.length > 0;
      res.cork(() => {
        if (!this.headWritten) this.writeHead(true);
        if (writeBody) ok = res.write(body as string | Uint8Array);
      });
      if (ok) return RESOLVED;
      return this.waitForWritable();
    }
    // Final chunk of a streamed response. Never `end(…, true)` here: this uWS build writes its
    // `Connection: close` header into the chunked body (the header went out with the head instead).
    this.finishResponse(() => {
      if (this.isHead) res.endWithoutBody();
      else res.end(body ?? "");
    });
    this.wakeDisconnect();
    return RESOLVED;
  }

  /**
   * Whether a streamed response goes out with a content-length: the app declared a valid one and
   * the status and method allow a body. (A HEAD answer never sends the body; its framing is the
   * existing path's.)
   */
  private startsSized(): boolean {
    const status = this.status;
    if (this.isHead || status < 200 || status === 204 || status === 304) return false;
    const total = declaredContentLength(this.headers as HeaderList);
    if (total === undefined) return false;
    this.sizedTotal = total;
    return true;
  }

  /**
   * One chunk of a streamed body of declared length, through `tryEnd(chunk, total)`: uWS writes
   * `Content-Length: total` with the head and ends the response by itself once `total` bytes went
   * out. Under backpressure `tryEnd` takes only part of the chunk; the rest is retried from
   * `onWritable` at the offset uWS reports (its streaming contract), and `send()` resolves when
   * the whole chunk is out. A body longer than declared is refused before anything of it is written;
   * one that ends shorter closes the connection (the client must not wait for the missing bytes).
   */
  private writeSized(body: Uint8Array | string | undefined, more: boolean): Promise<void> {
    const res = this.res;
    const chunk = body === undefined ? EMPTY_BYTES : typeof body === "string" ? Buffer.from(body) : body;
    const total = this.sizedTotal;
    if (this.sizedSent + chunk.byteLength > total) {
      const error = new ProtocolError(`a body of its declared content-length (${total} bytes)`, `at least ${this.sizedSent + chunk.byteLength} bytes`);
      this.abortResponse();
      return Promise.reject(error);
    }
    const completes = this.sizedSent + chunk.byteLength === total;
    let ok = true;
    let done = false;
    let start = 0;
    const write = (): void => {
      // As finishResponse: a socket paused for request-body backpressure could not finish writing.
      if (this.paused) {
        this.paused = false;
        res.resume();
      }
      if (!this.headWritten) this.writeHead(true);
      if (chunk.byteLength === 0 && !completes) return;
      start = res.getWriteOffset();
      [ok, done] = res.tryEnd(chunk, total);
    };
    if (this.adapter.inHandler) write();
    else res.cork(write);
    this.sizedSent += chunk.byteLength;
    if (done) {
      this.sizedDone();
      return RESOLVED;
    }
    if (ok) {
      if (more) return RESOLVED;
      // The app ended the body short of its content-length.
      const error = new ProtocolError(`a body of its declared content-length (${total} bytes)`, `${this.sizedSent} bytes`);
      this.abortResponse();
      return Promise.reject(error);
    }
    return new Promise<void>((resolve, reject) => {
      this.drainResolve = resolve;
      res.onWritable((offset) => {
        const [retryOk, retryDone] = res.tryEnd(chunk.subarray(offset - start), total);
        if (retryDone) this.sizedDone();
        else if (retryOk && !more) {
          // The last chunk is out and the body is still short of its content-length.
          this.drainResolve = null;
          this.abortResponse();
          reject(new ProtocolError(`a body of its declared content-length (${total} bytes)`, `${this.sizedSent} bytes`));
          return true;
        }
        if (retryOk || retryDone) this.resolveDrain();
        return retryOk;
      });
    });
  }

  /** uWS ended a sized response itself (the last byte went out): `res` is done with. */
  private sizedDone(): void {
    this.sizedComplete = true;
    this.clearTimer();
    this.gone = true;
    this.dropped = true;
    this.release();
    this.wakeDisconnect();
  }

  /** Status line and the app's headers (framing headers left to uWS). Call inside cork. */
  private writeHead(streaming: boolean): void {
    const res = this.res;
    res.writeStatus(statusLine(this.status));
    const list = this.headers as HeaderList;
    for (let i = 0; i < list.length; i++) {
      const pair = list[i];
      if (!isFramingHeader(pair[0])) res.writeHeader(pair[0], pair[1]);
    }
    // During a graceful close a streamed response says so up front (see sendEvent's final branch).
    if (streaming && this.adapter.closing) res.writeHeader("connection", "close");
    this.headWritten = true;
  }

  /** Head and whole body in one corked write; uWS adds content-length. */
  private writeWhole(body: Uint8Array | string | undefined): void {
    const res = this.res;
    const status = this.status;
    const close = this.adapter.closing || this.overflowed;
    this.finishResponse(() => {
      this.writeHead(false);
      if (status < 200 || status === 204 || status === 304) {
        // RFC 9110 §8.6: no Content-Length on 1xx/204; on 304 it would describe the unsent body.
        // Called without arguments: this build reads an `undefined` length as 0 and writes it.
        if (close) res.endWithoutBody(undefined, true);
        else res.endWithoutBody();
      } else if (this.isHead) {
        // uWS would send the body of a HEAD response; report the GET's length instead (RFC 9110 §9.3.2).
        res.endWithoutBody(declaredContentLength(this.headers as HeaderList) ?? byteLength(body), close);
      } else {
        res.end(body ?? "", close);
      }
    });
    this.wakeDisconnect();
  }

  /**
   * Runs `write` (which ends the response) corked, then marks `res` as gone. A socket paused for
   * request-body backpressure is resumed first, so uWS can read (and discard) the unread body
   * and keep the connection alive.
   */
  private finishResponse(write: () => void): void {
    const res = this.res;
    this.clearTimer();
    if (this.adapter.inHandler) this.resumeAndWrite(write);
    else res.cork(() => this.resumeAndWrite(write));
    this.gone = true;
    this.dropped = true;
    this.release();
  }

  private resumeAndWrite(write: () => void): void {
    if (this.paused) {
      this.paused = false;
      this.res.resume();
    }
    write();
  }

  private waitForWritable(): Promise<void> {
    // uWS's pause() stops a socket in both directions (uWebSockets.js issue #661: "you have to
    // either pause or resume both write and read"), so a socket paused for request-body
    // backpressure never reports writable: an app that streamed a response before reading a large
    // body hung in send() for good (conformance: "streams a large response before reading a large
    // request body"). So resume it while the app waits to write; body chunks that arrive meanwhile
    // queue without pausing again (onData), bounded by maxBodySize, which onData enforces.
    if (this.paused) {
      this.paused = false;
      this.res.resume();
    }
    this.res.onWritable(() => {
      this.resolveDrain();
      return true; // uWS already holds the chunk; nothing to retry
    });
    return new Promise<void>((resolve) => {
      this.drainResolve = resolve;
    });
  }

  private resolveDrain(): void {
    const resolve = this.drainResolve;
    this.drainResolve = null;
    if (resolve !== null) resolve();
  }

  // --- after the app -----------------------------------------------------------------------

  appReturned(scope: HttpScope): void {
    const state = this.responseState;
    if (state === RESPONSE_COMPLETE && (this.gone || this.dropped)) return;
    if (this.dropped) return; // the client left; returning early is fine
    if (state === RESPONSE_COMPLETE) return;
    const err = responseNotCompleted(state) as LaminarError;
    this.adapter.options.logger.error({ err, method: scope.method, path: scope.rawPath }, err.message);
    this.abortResponse();
  }

  appFailed(scope: HttpScope, err: unknown): void {
    const logger = this.adapter.options.logger;
    if (this.overflowed && err instanceof BodyTooLargeError) {
      logger.debug({ err, method: scope.method, path: scope.rawPath }, "request body too large");
    } else {
      logger.error({ err, method: scope.method, path: scope.rawPath }, "app failed");
    }
    if (!this.dropped) this.abortResponse();
  }

  /** Before the head was written: a generic 500. After: close the connection (truncated response). */
  private abortResponse(): void {
    const state = this.responseState;
    this.responseState = RESPONSE_COMPLETE;
    if (state === RESPONSE_IDLE && !this.headWritten) {
      const close = this.adapter.closing || this.overflowed;
      this.finishResponse(() => writeUwsError(this.res, 500, undefined, close));
    } else {
      this.gone = true;
      this.dropped = true;
      this.res.close();
      this.release();
    }
    this.wakeDisconnect();
  }
}

const EMPTY_BYTES = new Uint8Array(0);

function byteLength(body: Uint8Array | string | undefined): number {
  if (body === undefined) return 0;
  return typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
}

