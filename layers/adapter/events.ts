/**
 * The event interface: laminar's ASGI.
 *
 * An application is any function `(scope, receive, send) => Promise<void>`. The connection server
 * turns each request into a `scope` (what the request is) plus two channels: `receive()` yields
 * what the client sends (body chunks, then possibly a disconnect), `send()` takes what the app
 * answers (one response start, then body chunks until `moreBody` is false). Routers, mounted
 * sub-apps and every middleware are apps of this one shape, so any of them runs on any server.
 *
 * WebSocket scopes and events live in `websocket-events.ts` and join the unions here.
 *
 * Deliberately left out: HTTP trailers, server push and the ASGI `extensions` mechanism.
 *
 * @module
 */
import type { WebSocketReceiveEvents, WebSocketScope, WebSocketSendEvents } from "./websocket-events.js";

export type * from "./websocket-events.js";

/** Header list: names lower-cased, values as received, in arrival order; repeated names repeat. */
export type HeaderList = Array<[name: string, value: string]>;

/** A host/port pair, as ASGI's `client` and `server` entries. */
export type Address = [host: string, port: number];

/** The description of one HTTP request, created by the server before the app runs. */
export interface HttpScope {
  readonly type: "http";
  /** Upper-case method: `GET`, `POST`, … */
  method: string;
  /**
   * Percent-decoded path, relative to `rootPath`: an app mounted at `/api` that receives
   * `/api/books` sees `path = "/books"` and `rootPath = "/api"`.
   */
  path: string;
  /** The path as it arrived on the wire (still percent-encoded, never relative), without the query. */
  rawPath: string;
  /** The raw query string, without the leading `?`; `""` when there is none. */
  queryString: string;
  /** Request headers, names lower-cased. */
  headers: HeaderList;
  httpVersion: "1.0" | "1.1" | "2";
  scheme: "http" | "https";
  /**
   * The peer's address, or null when the server cannot tell (in-process test client). On uWS it
   * is an accessor read on first use (see uws-adapter.ts): a copy of the scope must name it
   * (`{ ...scope, client: scope.client }`), since a spread copies own properties only.
   */
  client: Address | null;
  /** The local address the request arrived on, or null when unknown. */
  server: Address | null;
  /** Where this app is mounted; `""` at the top. */
  rootPath: string;
  /** Lifespan state: a shallow copy, per request, of what the app's startup stored. */
  state: Record<string, unknown>;
  /** Path parameters, filled in by the router that matched the request (still strings). */
  pathParams?: Record<string, string>;
  /**
   * Per-request storage for layers (DI container, request id, …). Created lazily by whoever needs
   * it first; servers leave it undefined so that a request that needs nothing allocates nothing.
   */
  extensions?: Record<string, unknown>;
}

/** The lifespan scope: one per application run, not per request (ASGI lifespan protocol). */
export interface LifespanScope {
  readonly type: "lifespan";
  /** Mutable state the app fills during startup; each request's `scope.state` is copied from it. */
  state: Record<string, unknown>;
}

/** The scopes of a client connection (what middleware and routers dispatch). */
export type ConnectionScope = HttpScope | WebSocketScope;

/** Any scope an app can be called with. */
export type Scope = HttpScope | WebSocketScope | LifespanScope;

/** A chunk of the request body. `moreBody: false` marks the last one (possibly empty). */
export interface HttpRequestEvent {
  type: "http.request";
  body: Uint8Array;
  moreBody: boolean;
}

/** The client went away (or the response completed and the connection closed). */
export interface HttpDisconnectEvent {
  type: "http.disconnect";
}

/** Starts the response. Must come exactly once, before any body event. */
export interface HttpResponseStartEvent {
  type: "http.response.start";
  status: number;
  /** Response headers; names should be lower-case. */
  headers: HeaderList;
}

/**
 * A chunk of the response body. A string is sent UTF-8 encoded (accepted so the common JSON path
 * need not copy into a Buffer). `moreBody` defaults to false: the response is complete.
 */
export interface HttpResponseBodyEvent {
  type: "http.response.body";
  body?: Uint8Array | string;
  moreBody?: boolean;
}

export interface LifespanStartupEvent {
  type: "lifespan.startup";
}
export interface LifespanShutdownEvent {
  type: "lifespan.shutdown";
}
export interface LifespanStartupCompleteEvent {
  type: "lifespan.startup.complete";
}
export interface LifespanStartupFailedEvent {
  type: "lifespan.startup.failed";
  message: string;
}
export interface LifespanShutdownCompleteEvent {
  type: "lifespan.shutdown.complete";
}
export interface LifespanShutdownFailedEvent {
  type: "lifespan.shutdown.failed";
  message: string;
}

/** Everything `receive()` can yield. */
export type ReceiveEvent =
  | HttpRequestEvent
  | HttpDisconnectEvent
  | WebSocketReceiveEvents
  | LifespanStartupEvent
  | LifespanShutdownEvent;

/** Everything `send()` accepts. */
export type SendEvent =
  | HttpResponseStartEvent
  | HttpResponseBodyEvent
  | WebSocketSendEvents
  | LifespanStartupCompleteEvent
  | LifespanStartupFailedEvent
  | LifespanShutdownCompleteEvent
  | LifespanShutdownFailedEvent;

/** Reads the next client event. */
export type Receive = () => Promise<ReceiveEvent>;

/**
 * Sends one event to the client. The returned promise settles when the server can take more
 * (backpressure); after a disconnect it resolves without writing.
 */
export type Send = (event: SendEvent) => Promise<void>;

/**
 * The promise a server's `send()` returns when it accepted an event synchronously (stored a
 * response start, wrote a body without backpressure). It is a fast-path hint, not a promise of
 * its own kind: an app that sees `send(start) === SENT` may send the body at once instead of
 * waiting a microtask; any other return value must be awaited. Servers should return it whenever
 * they can; wrappers that return their own promises lose nothing but the shortcut.
 */
export const SENT: Promise<void> = Promise.resolve();

/**
 * The last promise made by {@link receivedNow} and its event. One slot, not a WeakMap from promise
 * to event: the app peeks in the same synchronous call that made the promise, and with a WeakMap
 * entry per request the later callgrind windows of node:http `POST /items` cost 188k and 168k
 * instructions per request against 106k and 104k with this slot (bare node:http: 93k, 91k), most
 * likely the ephemeron table the collector must walk. A peek at an older promise finds the slot
 * taken by a newer one and gets undefined: the app awaits it, as any promise.
 */
let readyPromise: Promise<ReceiveEvent> | null = null;
let readyEvent: ReceiveEvent | null = null;

/**
 * A `receive()` result that is already there: a resolved promise whose event
 * {@link eventReceivedNow} can read without waiting a microtask. The receive-side twin of
 * {@link SENT}: servers return it when the event was in hand when `receive()` was called (a body
 * read before the app ran); apps that recognise it may go on in the same call, every other app
 * simply awaits it.
 */
export function receivedNow(event: ReceiveEvent): Promise<ReceiveEvent> {
  const promise = Promise.resolve(event);
  readyPromise = promise;
  readyEvent = event;
  return promise;
}

/**
 * The event of the promise {@link receivedNow} made last, read once: the slot is cleared, so a
 * body that was peeked at is not kept past its request (one that an app awaited without peeking
 * stays until the next `receivedNow`: at most one per process). Undefined for any other promise
 * (await it).
 */
export function eventReceivedNow(promise: Promise<ReceiveEvent>): ReceiveEvent | undefined {
  if (promise !== readyPromise) return undefined;
  const event = readyEvent!;
  readyPromise = null;
  readyEvent = null;
  return event;
}

/** An application: the one shape every layer above the adapter speaks. */
export type App = (scope: Scope, receive: Receive, send: Send) => Promise<void>;

/** Narrowing helper for apps that only serve HTTP. */
export function isHttpScope(scope: Scope): scope is HttpScope {
  return scope.type === "http";
}
