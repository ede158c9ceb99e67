/**
 * Layer 2 for node:http: turns one `IncomingMessage`/`ServerResponse` pair into
 * `(scope, receive, send)`, runs the app, and enforces the event protocol.
 *
 * Hot-path rules (the target is ≥ 90 % of bare node:http for a GET hello-world):
 * - one {@link NodeHttpExchange} per request holds all state; `receive`/`send` are its prototype
 *   methods bound once in the constructor (the two unavoidable closures: apps call them unbound);
 * - stream listeners are module-level functions that find their exchange through a symbol on the
 *   request/response, so attaching them allocates no closure, and a request without a body
 *   attaches none at all;
 * - events that complete synchronously return shared pre-resolved promises;
 * - a single-shot response is one `writeHead` + one `end` with a computed content-length.
 *
 * Decisions (each one visible to apps):
 * - `scope.path` is `decodeURIComponent(rawPath)` (so `%2F` becomes `/`; `rawPath` keeps it). A
 *   malformed escape or one that is not UTF-8 (`/a%zz`, `/a%FF`) gets a 400 before the app runs,
 *   rather than passing the raw path on under the decoded name.
 * - Host missing on HTTP/1.1, or repeated: 400 before the app (RFC 9112 §3.2).
 * - Content-Length over `maxBodySize`: 413 + `connection: close` before the app. A streamed body
 *   passing the limit: `receive()` rejects with `BodyTooLargeError`; the adapter itself answers
 *   413 (if the app has sent nothing) and closes; later sends from the app are silently dropped.
 * - `http.response.start` is stored, not written: the head goes out with the first body event
 *   (so a single-shot response is one write with its content-length). If node then rejects a
 *   header, `send` rejects with a `ProtocolError` and the state goes back to idle (nothing reached
 *   the wire, so a 500 can still be sent).
 * - The response-started rule follows the protocol state: an app that fails or returns after
 *   `http.response.start` gets its connection destroyed even if node had not flushed the head.
 * - Headers are built eagerly as a plain array (see {@link buildScope} for the measurement).
 *
 * Deliberately left out: `Expect: 100-continue` (node answers it before the request event),
 * trailers, upgrades (WebSockets come with the uWebSockets.js server).
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import type { Socket } from "node:net";
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
import { splitTarget } from "./request-target.js";
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
import { writeErrorResponse } from "./node-error-response.js";

/** Settings shared by every request of one server. The server flips `closing` during close(). */
export interface NodeHttpAdapterOptions {
  /** Logger for app failures (errors before/after the response started, protocol misuse). */
  logger: Logger;
  /** Request bodies past this many bytes: 413 (by Content-Length up front, or while streaming). */
  maxBodySize: number;
  /** Lifespan state; each request's `scope.state` is a shallow copy. Omitted: `{}` per request. */
  state?: Record<string, unknown>;
  /**
   * Bodies with a Content-Length up to this many bytes are read ('data'/'end', as a bare node
   * server does) before the app runs, and `receive()` hands them over as one final event. Larger
   * and chunked bodies stream through `receive()`. Default 0 (stream everything).
   */
  prereadLimit?: number;
}

/** Accepted synchronously: the shared {@link SENT} promise, which apps may recognise. */
const RESOLVED: Promise<void> = SENT;

/** `writeHead`'s length for a whole string body: measured only when the headers lack a length. */
const STRING_BODY = -2;

/** Where listeners find their exchange (a symbol, so no closure per request). */
const kExchange = Symbol("laminar.exchange");
type WithExchange<T> = T & { [kExchange]?: NodeHttpExchange };

// Request-body reading states.
const BODY_UNREAD = 0; // nothing read, no listeners attached
const BODY_READING = 1; // listeners attached, more may come
const BODY_DONE = 2; // final http.request event handed out (or abandoned)

/**
 * Runs apps for node:http requests. Create one per server; pass {@link NodeHttpAdapter.handle}
 * (already bound) as the request listener, after any checks of your own.
 *
 * @example
 * const adapter = new NodeHttpAdapter(app, { logger, maxBodySize: 1 << 20 });
 * http.createServer(adapter.handle).listen(0);
 */
export class NodeHttpAdapter {
  /** Set by the server when it starts closing: responses from then on carry `connection: close`. */
  closing = false;
  readonly app: App;
  readonly logger: Logger;
  readonly maxBodySize: number;
  /** See {@link NodeHttpAdapterOptions.prereadLimit}. */
  readonly prereadLimit: number;
  readonly state: Record<string, unknown> | undefined;

  constructor(app: App, options: NodeHttpAdapterOptions) {
    this.app = app;
    this.logger = options.logger;
    this.maxBodySize = options.maxBodySize;
    this.prereadLimit = Math.min(options.prereadLimit ?? 0, options.maxBodySize);
    this.state = options.state;
    this.handle = this.handle.bind(this);
  }

  /** The request listener: validates what the app cannot handle, then runs the app. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const exchange = new NodeHttpExchange(this, req, res);
    const scope = buildScope(exchange, req);
    if (scope === null) {
      // RFC 3986 §2.1: `%` must start a valid escape; Starlette/uvicorn pass such paths through
      // undecoded, which lets the same bytes mean two things to two layers. We refuse instead.
      writeErrorResponse(res, 400, "Malformed percent-encoding in the request path", true);
      return;
    }
    if (exchange.hostCount !== 1 && (exchange.hostCount > 1 || req.httpVersionMinor === 1)) {
      // RFC 9112 §3.2: "A server MUST respond with a 400 to any HTTP/1.1 request message that lacks
      // a Host header field and to any request message that contains more than one Host header
      // field". (node's own check is turned off by the server: it answers with an empty body.)
      writeErrorResponse(res, 400, exchange.hostCount === 0 ? "Missing Host header" : "More than one Host header", true);
      return;
    }
    if (exchange.contentLength > this.maxBodySize) {
      // Known too large before a byte of body: answer now, never run the app, and close (the
      // body is still on the wire; reading it only to discard it is what a flooder wants).
      writeErrorResponse(res, 413, undefined, true);
      return;
    }
    if (exchange.contentLength > 0 && exchange.contentLength <= this.prereadLimit) {
      // A small body of known length: read it the way a bare node server would, then run the app.
      // Its receive() then needs no listeners, no pending promise and no wake-up per chunk.
      exchange.preread(scope);
      return;
    }
    runApp(this.app, scope, exchange);
  }
}

/** Per-request state: the request stream, the response, and the protocol position. */
class NodeHttpExchange {
  readonly adapter: NodeHttpAdapter;
  readonly req: WithExchange<IncomingMessage>;
  readonly res: WithExchange<ServerResponse>;
  /** Bound once: the `receive` the app gets. */
  readonly receive: Receive;
  /** Bound once: the `send` the app gets. */
  readonly send: Send;
  /** Declared body length; -1 without Content-Length (chunked, or no body). */
  contentLength = -1;
  /** Whether the request has a body at all (Content-Length > 0 or Transfer-Encoding). */
  hasBody = false;
  /** How many Host header lines the request had. */
  hostCount = 0;
  responseState: ResponseState = RESPONSE_IDLE;
  bodyState = BODY_UNREAD;
  /** Bytes of body received so far (checked against maxBodySize). */
  received = 0;
  /** The client is gone, or the server answered by itself: sends become no-ops. */
  dropped = false;
  /** The body limit was exceeded while streaming. */
  overflowed = false;
  headWritten = false;
  status = 200;
  headers: HeaderList | null = null;
  private pendingResolve: ((event: ReceiveEvent) => void) | null = null;
  private pendingReject: ((err: unknown) => void) | null = null;
  private drainResolve: (() => void) | null = null;
  /** The pre-read body, handed out by the first receive(). */
  private prereadEvent: HttpRequestEvent | null = null;
  /** Pre-read chunks so far, and the scope to run the app with once they are all in. */
  private prereadChunks: Buffer[] | null = null;
  private prereadScope: HttpScope | null = null;

  constructor(adapter: NodeHttpAdapter, req: IncomingMessage, res: ServerResponse) {
    this.adapter = adapter;
    this.req = req;
    this.res = res;
    this.receive = this.receiveEvent.bind(this);
    this.send = this.sendEvent.bind(this);
  }

  // --- receive ---------------------------------------------------------------------------

  /** `receive()`: the next body chunk, then (once the body is done) a disconnect when it happens. */
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
    if (!this.hasBody) {
      // No body: answer without touching the stream (node dumps nothing, attaches nothing).
      this.bodyState = BODY_DONE;
      return FINAL_EMPTY_PROMISE;
    }
    if (this.pendingResolve !== null) {
      return Promise.reject(new ProtocolError("one receive() at a time", "a second concurrent receive()"));
    }
    const req = this.req;
    if (this.bodyState === BODY_UNREAD) {
      this.bodyState = BODY_READING;
      req[kExchange] = this;
      req.on("readable", onReqReadable);
      req.on("end", onReqEnd);
      req.on("error", onReqGone);
      req.on("close", onReqGone);
    }
    const chunk = req.read() as Buffer | null;
    if (chunk !== null) return this.chunkPromise(chunk);
    if (req.readableEnded) return this.finalPromise();
    if (req.destroyed) return this.disconnectPromise();
    return new Promise<ReceiveEvent>((resolve, reject) => {
      this.pendingResolve = resolve;
      this.pendingReject = reject;
    });
  }

  /** Called by the stream listeners when data, the end or a disconnect arrives. */
  /** Starts reading a small body of known length; the app runs once it is complete. */
  preread(scope: HttpScope): void {
    const req = this.req;
    req[kExchange] = this;
    this.prereadScope = scope;
    this.bodyState = BODY_READING;
    req.on("data", onPrereadData);
    req.on("end", onPrereadEnd);
    req.on("close", onPrereadGone);
    req.on("error", onPrereadGone);
  }

  prereadData(chunk: Buffer): void {
    (this.prereadChunks ??= []).push(chunk);
  }

  /** The whole body is in: hand it to the app as one event. */
  prereadEnd(): void {
    const req = this.req;
    req.removeListener("data", onPrereadData);
    req.removeListener("end", onPrereadEnd);
    req.removeListener("close", onPrereadGone);
    // The 'error' listener stays: without it a late socket error on the request would be thrown.
    // It finds no exchange from now on, and the request (which node keeps as the connection's last
    // until the next one arrives) no longer keeps this exchange and its scope alive: measured under
    // POST load, that retention doubled what survived each scavenge and grew the old generation.
    req[kExchange] = undefined;
    const chunks = this.prereadChunks ?? [];
    this.prereadChunks = null;
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    this.received = body.length;
    this.bodyState = BODY_DONE;
    this.prereadEvent = { type: "http.request", body, moreBody: false };
    const scope = this.prereadScope!;
    this.prereadScope = null;
    runApp(this.adapter.app, scope, this);
  }

  /** The client left before the body was complete: the app never runs, there is nobody to answer. */
  prereadGone(): void {
    if (this.prereadScope === null) return;
    this.prereadScope = null;
    this.prereadChunks = null;
    this.dropped = true;
    this.bodyState = BODY_DONE;
    const req = this.req;
    req.removeListener("data", onPrereadData);
    req.removeListener("end", onPrereadEnd);
    req.removeListener("close", onPrereadGone);
  }

  wake(): void {
    const resolve = this.pendingResolve;
    if (resolve === null) return;
    const reject = this.pendingReject as (err: unknown) => void;
    const req = this.req;
    const chunk = req.read() as Buffer | null;
    let event: ReceiveEvent | null = null;
    let failed: Promise<ReceiveEvent> | null = null;
    if (chunk !== null) {
      event = this.chunkEvent(chunk);
      if (event === null) failed = this.overflow();
    } else if (req.readableEnded) {
      this.finishBody();
      event = FINAL_EMPTY;
    } else if (req.destroyed || this.dropped) {
      this.dropped = true;
      this.finishBody();
      event = DISCONNECT;
    } else {
      return;
    }
    this.pendingResolve = null;
    this.pendingReject = null;
    // Settle the pending promise directly: no intermediate promise per chunk.
    if (failed !== null) failed.then(resolve, reject);
    else resolve(event!);
  }

  private chunkPromise(chunk: Buffer): Promise<ReceiveEvent> {
    const event = this.chunkEvent(chunk);
    return event === null ? this.overflow() : Promise.resolve(event);
  }

  /** The event for a chunk just read, or null when it passes the body limit. */
  private chunkEvent(chunk: Buffer): HttpRequestEvent | null {
    this.received += chunk.length;
    if (this.received > this.adapter.maxBodySize) return null;
    const req = this.req;
    // `complete` is node's "whole message parsed"; with nothing left buffered this is the last chunk.
    const last = req.complete && req.readableLength === 0;
    if (last) this.finishBody();
    return { type: "http.request", body: chunk, moreBody: !last };
  }

  private finalPromise(): Promise<ReceiveEvent> {
    this.finishBody();
    return FINAL_EMPTY_PROMISE;
  }

  private disconnectPromise(): Promise<ReceiveEvent> {
    this.dropped = true;
    this.finishBody();
    return DISCONNECT_PROMISE;
  }

  /** The body is over (fully read, abandoned or cut off): detach the listeners. */
  private finishBody(): void {
    this.bodyState = BODY_DONE;
    const req = this.req;
    req.removeListener("readable", onReqReadable);
    req.removeListener("end", onReqEnd);
    req.removeListener("close", onReqGone);
    // The 'error' listener stays: without it a late socket error on the request would be thrown.
    // Detached from the request as in prereadEnd (the request outlives its exchange).
    req[kExchange] = undefined;
  }

  /**
   * The streamed body passed maxBodySize (chunked, or a client that sent more than it declared
   * and node's parser has not yet noticed). The app's receive() rejects; the client gets a 413 if
   * nothing was sent yet, and the connection is closed either way (its remaining bytes are unread).
   */
  private overflow(): Promise<ReceiveEvent> {
    this.overflowed = true;
    this.finishBody();
    this.req.pause();
    const res = this.res;
    if (!this.dropped) {
      this.dropped = true;
      if (!this.headWritten && !res.headersSent) writeErrorResponse(res, 413, undefined, true);
      else res.destroy();
    }
    return Promise.reject(new BodyTooLargeError(this.adapter.maxBodySize));
  }

  /** After the body: resolves `http.disconnect` once the response completes or the client leaves. */
  private waitForDisconnect(): Promise<ReceiveEvent> {
    const res = this.res;
    if (this.dropped || this.responseState === RESPONSE_COMPLETE || res.destroyed) return DISCONNECT_PROMISE;
    if (this.pendingResolve !== null) {
      return Promise.reject(new ProtocolError("one receive() at a time", "a second concurrent receive()"));
    }
    res[kExchange] = this;
    res.on("close", onResClose);
    return new Promise<ReceiveEvent>((resolve, reject) => {
      this.pendingResolve = resolve;
      this.pendingReject = reject;
    });
  }

  /** The response closed (finished or connection lost): wake a receive() waiting for disconnect. */
  responseClosed(): void {
    this.res.removeListener("close", onResClose);
    const resolve = this.pendingResolve;
    if (this.bodyState !== BODY_DONE || resolve === null) return;
    this.pendingResolve = null;
    this.pendingReject = null;
    resolve(DISCONNECT);
  }

  // --- send ------------------------------------------------------------------------------

  /** `send()`: see the module doc for the write strategy. */
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
    if (!more) this.responseState = RESPONSE_COMPLETE;
    const res = this.res;
    if (this.dropped || res.destroyed) {
      // The client left (or the server already answered, e.g. 413): nothing to write, nothing to
      // throw; the app finds out through receive() if it cares (ASGI: send after disconnect is a no-op).
      return RESOLVED;
    }
    try {
      if (!this.headWritten) {
        if (!more) {
          this.writeWhole(body);
          return RESOLVED;
        }
        this.writeHead(-1);
      }
    } catch (err) {
      // node rejected a header (invalid token or characters, RFC 9110 §5.1/§5.5). Nothing reached the
      // wire, so the response is back to idle: an error layer (or the fallback below) can still 500.
      this.responseState = RESPONSE_IDLE;
      return Promise.reject(new ProtocolError("valid response header names and values", (err as Error).message));
    }
    try {
      if (more) {
        if (body === undefined || body.length === 0) return RESOLVED;
        if (res.write(body)) return RESOLVED;
        return this.waitForDrain();
      }
      res.end(body);
    } catch (err) {
      // strictContentLength (set for streamed bodies with a declared length): more bytes than
      // declared, or an end short of it. Close the connection rather than frame garbage.
      if ((err as { code?: string }).code !== "ERR_HTTP_CONTENT_LENGTH_MISMATCH") throw err;
      this.responseState = RESPONSE_STARTED;
      this.abortResponse();
      return Promise.reject(new ProtocolError("a body of its declared content-length", (err as Error).message));
    }
    this.responseDone();
    return RESOLVED;
  }

  /** Head and whole body in one go, with the content-length computed unless the app framed it. */
  private writeWhole(body: Uint8Array | string | undefined): void {
    this.writeHead(body === undefined ? 0 : typeof body === "string" ? STRING_BODY : body.byteLength, body);
    this.res.end(body);
    this.responseDone();
  }

  /**
   * Writes the status line and headers. `length` ≥ 0 (or {@link STRING_BODY}: the byte length of
   * `body`, computed only when needed) adds content-length unless the app set
   * content-length or transfer-encoding, or the status forbids a body (RFC 9110 §8.6: no
   * Content-Length on 1xx/204; on 304 it would have to describe the unsent representation).
   */
  private writeHead(length: number, body?: string | Uint8Array): void {
    const status = this.status;
    const res = this.res;
    const list = this.headers as HeaderList;
    checkHeaderList(list);
    let headers = list;
    if (length !== -1 && !lastListFramed && status >= 200 && status !== 204 && status !== 304) {
      // A string's byte length only when the app did not give one (the serializer does). A new
      // list: the app's may be shared between responses.
      const value = length === STRING_BODY ? Buffer.byteLength(body as string) : length;
      headers = [...list, ["content-length", String(value)]];
    }
    // During a graceful close, end keep-alive connections after this response (node then sends
    // `Connection: close` and closes once it is written); after a body overflow, the rest of the
    // body is still unread on the wire.
    if (this.adapter.closing || this.overflowed) res.shouldKeepAlive = false;
    // A streamed body whose length the app declared (a file): node checks the bytes against it and
    // throws on a mismatch (see sendEvent), instead of sending a body that is not what it said.
    if (length === -1 && lastListFramed && declaredContentLength(this.headers as HeaderList) !== undefined) res.strictContentLength = true;
    res.writeHead(status, headers);
    this.headWritten = true;
  }

  private waitForDrain(): Promise<void> {
    const res = this.res;
    res[kExchange] = this;
    res.on("drain", onResDrain);
    res.on("close", onResDrain);
    return new Promise<void>((resolve) => {
      this.drainResolve = resolve;
    });
  }

  /** 'drain' or 'close' after a write returned false: let the app's send() resolve. */
  drained(): void {
    const res = this.res;
    res.removeListener("drain", onResDrain);
    res.removeListener("close", onResDrain);
    const resolve = this.drainResolve;
    this.drainResolve = null;
    if (resolve !== null) resolve();
  }

  /** The final body was handed to node. Unread request body is drained so keep-alive can go on. */
  private responseDone(): void {
    if (this.bodyState === BODY_READING) {
      this.finishBody();
      this.req.resume();
    }
  }

  // --- after the app -----------------------------------------------------------------------

  /** The app returned: complete → nothing to do; otherwise log and repair what can be repaired. */
  appReturned(scope: HttpScope): void {
    const state = this.responseState;
    if (state === RESPONSE_COMPLETE) return;
    if (this.dropped || this.res.destroyed) return; // the client left; returning early is fine
    const err = responseNotCompleted(state) as LaminarError;
    this.adapter.logger.error({ err, method: scope.method, path: scope.rawPath }, err.message);
    this.abortResponse();
  }

  /** The app threw. Before the response started: 500; after: close the connection. */
  appFailed(scope: HttpScope, err: unknown): void {
    const logger = this.adapter.logger;
    if (this.overflowed && err instanceof BodyTooLargeError) {
      logger.debug({ err, method: scope.method, path: scope.rawPath }, "request body too large");
    } else {
      logger.error({ err, method: scope.method, path: scope.rawPath }, "app failed");
    }
    if (this.responseState !== RESPONSE_COMPLETE && !this.dropped && !this.res.destroyed) this.abortResponse();
  }

  /**
   * Before `http.response.start`: a 500 with a generic JSON body (never the error's message or
   * stack). After it: destroy the socket, so the client sees a truncated response rather than a
   * complete-looking wrong one (uvicorn `h11_impl.py` `run_asgi`). The rule follows the protocol
   * state, not whether node already flushed the head, so it is the same on every server.
   */
  private abortResponse(): void {
    const res = this.res;
    const state = this.responseState;
    this.responseState = RESPONSE_COMPLETE;
    if (state === RESPONSE_IDLE && !res.headersSent) {
      writeErrorResponse(res, 500, undefined, this.adapter.closing || this.overflowed);
      this.responseDone();
    } else {
      // node corks the socket for the first writes of a response until the next tick; flush what
      // was written so far, so the client sees the truncated response and not just a reset.
      const socket = res.socket;
      if (socket !== null && socket.writableCorked > 0) socket.uncork();
      res.destroy();
    }
  }
}

// --- listeners (module-level: `this` is the emitter, the exchange hangs off a symbol) ------------

function onReqReadable(this: WithExchange<IncomingMessage>): void {
  this[kExchange]?.wake();
}
function onReqEnd(this: WithExchange<IncomingMessage>): void {
  this[kExchange]?.wake();
}
function onReqGone(this: WithExchange<IncomingMessage>): void {
  const exchange = this[kExchange];
  if (exchange === undefined || exchange.bodyState === BODY_DONE) return;
  if (!this.readableEnded && !this.complete) exchange.dropped = true;
  exchange.wake();
}
function onPrereadData(this: WithExchange<IncomingMessage>, chunk: Buffer): void {
  this[kExchange]?.prereadData(chunk);
}
function onPrereadEnd(this: WithExchange<IncomingMessage>): void {
  this[kExchange]?.prereadEnd();
}
function onPrereadGone(this: WithExchange<IncomingMessage>): void {
  this[kExchange]?.prereadGone();
}
function onResClose(this: WithExchange<ServerResponse>): void {
  this[kExchange]?.responseClosed();
}
function onResDrain(this: WithExchange<ServerResponse>): void {
  this[kExchange]?.drained();
}

// --- scope -----------------------------------------------------------------------------------

/**
 * Whether the list last checked by {@link checkHeaderList} already frames the body
 * (content-length or transfer-encoding). A module variable rather than a marker property on the
 * header object: deleting a property afterwards would turn the object into a slow dictionary.
 */
let lastListFramed = false;

/** Where a connection's addresses are cached (a symbol: no closure, no visible property). */
const kAddresses = Symbol("laminar.addresses");
type SocketWithAddresses = Socket & { [kAddresses]?: { client: Address | null; server: Address | null } };

/**
 * The peer and local addresses of a connection, read once per connection: node's address getters
 * re-check the socket handle on every call, and a keep-alive connection serves many requests.
 * The tuples are frozen because every request on the connection shares them.
 */
function addressesOf(socket: Socket): { client: Address | null; server: Address | null } {
  const cached = (socket as SocketWithAddresses)[kAddresses];
  if (cached !== undefined) return cached;
  const addresses = {
    client: socket.remoteAddress === undefined ? null : (Object.freeze([socket.remoteAddress, socket.remotePort as number]) as Address),
    server: socket.localAddress === undefined ? null : (Object.freeze([socket.localAddress, socket.localPort as number]) as Address),
  };
  (socket as SocketWithAddresses)[kAddresses] = addresses;
  return addresses;
}

/**
 * Checks the app's header list before `writeHead` takes it as it is: node writes a list of
 * `[name, value]` pairs line by line, repeated names included (which `set-cookie` needs, RFC 6265
 * §3), with the same validation as an object. (It re-validates through `setHeader` only when
 * `setHeader` was called before, which this adapter never does.) Passing the list saves building
 * an object with a keyed store per header: about 7 % of layers 2–8's time per `GET /hello`.
 * Sets {@link lastListFramed}.
 */
function checkHeaderList(list: HeaderList): void {
  lastListFramed = false;
  for (let i = 0; i < list.length; i++) {
    const pair = list[i];
    const name = pair[0];
    const value = pair[1];
    if (typeof name !== "string" || typeof value !== "string") {
      throw new TypeError(`header ${JSON.stringify(name)} must be a [string, string] pair`);
    }
    const length = name.length;
    // Harmless on the wire now that no object is built, but refused as before: a header called
    // `__proto__` is a bug or a probe, and other servers (uWS, HTTP/2) build objects from lists.
    if (length === 9 && name === "__proto__") throw new TypeError('header name "__proto__" is not allowed');
    if (length === 14 || length === 17) {
      const lower = name.toLowerCase();
      if (lower === "content-length" || lower === "transfer-encoding") lastListFramed = true;
    }
  }
}

/**
 * Builds the scope, and on the way records on the exchange what the body looks like (from the raw
 * headers: reading `req.headers` would make node build its own header object too). Returns null
 * when the path has a malformed percent-escape.
 *
 * Headers are built eagerly. A lazy getter was measured: on the prototype it costs nothing but is
 * invisible to `{...scope}` (a mounted app would lose the headers); as an own accessor
 * (`Object.defineProperties` per request) it costs ~3x the eager copy (~570 ns vs ~180 ns for 4
 * headers on the dev machine). So the scope stays a plain object.
 */
function buildScope(exchange: NodeHttpExchange, req: IncomingMessage): HttpScope | null {
  const raw = req.rawHeaders;
  const n = raw.length;
  const headers: HeaderList = new Array(n >> 1);
  for (let i = 0, j = 0; i < n; i += 2, j++) {
    const name = raw[i].toLowerCase();
    headers[j] = [name, raw[i + 1]];
    if (name.length === 14 && name === "content-length") {
      // llhttp already rejected non-digits and conflicting duplicates (RFC 9112 §6.3).
      exchange.contentLength = Number(raw[i + 1]);
      if (exchange.contentLength > 0) exchange.hasBody = true;
    } else if (name.length === 17 && name === "transfer-encoding") {
      exchange.hasBody = true;
    } else if (name.length === 4 && name === "host") {
      exchange.hostCount++;
    }
  }
  const { rawPath, queryString, path } = splitTarget(req.url as string);
  if (path === null) return null;
  const socket = req.socket;
  const addresses = addressesOf(socket);
  const adapterState = exchange.adapter.state;
  return {
    type: "http",
    method: req.method as string,
    path,
    rawPath,
    queryString,
    headers,
    httpVersion: req.httpVersionMinor === 0 ? "1.0" : "1.1",
    scheme: (socket as TLSSocket).encrypted === true ? "https" : "http",
    client: addresses.client,
    server: addresses.server,
    rootPath: "",
    state: adapterState === undefined ? {} : { ...adapterState },
    pathParams: undefined,
    extensions: undefined,
  };
}
