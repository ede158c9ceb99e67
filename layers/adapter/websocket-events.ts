/**
 * The WebSocket half of the event interface (ASGI's websocket protocol, with its denial-response
 * extension).
 *
 * A WebSocket connection is one app call with a `websocket` scope. `receive()` yields
 * `websocket.connect` first (the handshake arrived), then one `websocket.receive` per message,
 * then `websocket.disconnect` with the close code. The app answers the handshake with exactly one
 * of: `websocket.accept` (101, optionally choosing a subprotocol and adding headers),
 * `websocket.close` before accepting (403), or a denial response
 * (`websocket.http.response.start` + `.body`: any HTTP status and body, e.g. 401 or 422).
 * After accepting it may `websocket.send` messages and `websocket.close` the connection.
 *
 * Close codes are RFC 6455 §7.4: 1000 normal, 1001 going away (server shutdown), 1006 abnormal
 * (no close frame: the peer vanished or the server dropped it), 1008 policy violation, 1009 message
 * too big, 1011 server error.
 *
 * @module
 */
import type { Address, HeaderList } from "./events.js";

/** The description of one WebSocket handshake (an HTTP/1.1 GET with `Upgrade: websocket`). */
export interface WebSocketScope {
  readonly type: "websocket";
  /** Percent-decoded path relative to `rootPath`, as on {@link HttpScope}. */
  path: string;
  /** The path as it arrived on the wire, without the query. */
  rawPath: string;
  /** The raw query string, without `?`. */
  queryString: string;
  /** Handshake request headers, names lower-cased. */
  headers: HeaderList;
  httpVersion: "1.1";
  scheme: "ws" | "wss";
  client: Address | null;
  server: Address | null;
  rootPath: string;
  /** Subprotocols the client offered (`Sec-WebSocket-Protocol`), in its order of preference. */
  subprotocols: string[];
  state: Record<string, unknown>;
  pathParams?: Record<string, string>;
  extensions?: Record<string, unknown>;
}

/** The handshake arrived; always the first event. */
export interface WebSocketConnectEvent {
  type: "websocket.connect";
}

/** One message from the client: `text` for a text frame, `bytes` for a binary one. */
export interface WebSocketReceiveEvent {
  type: "websocket.receive";
  text?: string;
  bytes?: Uint8Array;
}

/** The connection is over: the client closed it (its code), or it was lost (1006). */
export interface WebSocketDisconnectEvent {
  type: "websocket.disconnect";
  code: number;
  reason: string;
}

/** Completes the handshake with 101 Switching Protocols. */
export interface WebSocketAcceptEvent {
  type: "websocket.accept";
  /** One of `scope.subprotocols`; omitted: no subprotocol. */
  subprotocol?: string;
  /** Extra response headers for the 101 (names lower-case). */
  headers?: HeaderList;
}

/** Sends one message: `text` as a text frame, otherwise `bytes` as a binary frame. */
export interface WebSocketSendEvent {
  type: "websocket.send";
  text?: string;
  bytes?: Uint8Array;
}

/** Closes the connection (after accept), or rejects the handshake with 403 (before). */
export interface WebSocketCloseEvent {
  type: "websocket.close";
  /** Default 1000. */
  code?: number;
  reason?: string;
}

/** Rejects the handshake with an HTTP response (denial-response extension); before accept only. */
export interface WebSocketHttpResponseStartEvent {
  type: "websocket.http.response.start";
  status: number;
  headers: HeaderList;
}

/** A body chunk of the denial response; `moreBody` false (the default) ends it and the connection. */
export interface WebSocketHttpResponseBodyEvent {
  type: "websocket.http.response.body";
  body?: Uint8Array | string;
  moreBody?: boolean;
}

/** What `receive()` yields on a websocket scope. */
export type WebSocketReceiveEvents = WebSocketConnectEvent | WebSocketReceiveEvent | WebSocketDisconnectEvent;

/** What `send()` accepts on a websocket scope. */
export type WebSocketSendEvents =
  | WebSocketAcceptEvent
  | WebSocketSendEvent
  | WebSocketCloseEvent
  | WebSocketHttpResponseStartEvent
  | WebSocketHttpResponseBodyEvent;
