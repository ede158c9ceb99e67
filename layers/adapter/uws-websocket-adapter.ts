/**
 * Layer 2 for WebSockets on uWebSockets.js: the `upgrade`/`open`/`message`/`drain`/`close`
 * handlers of a uWS WebSocket route, turned into a `websocket` scope and a {@link WebSocketSession}.
 *
 * uWS rules this file follows: the request's headers are copied inside `upgrade` (they are gone
 * after it returns); `res.onAborted` is attached there, since the app answers later; `res` is not
 * touched after `upgrade()`, `end()` or an abort, nor the `WebSocket` after its close handler;
 * message ArrayBuffers are copied before the handler returns (uWS neuters them).
 *
 * Differences from node:http (in the README): this uWS build cannot pause reading a WebSocket,
 * so unread messages queue until the session's queue limit closes the connection with 1008; the
 * idle timeout is uWS's own (whole seconds, at least 8, reset by traffic either way); a message
 * more than twice `maxMessageSize` is dropped with the connection by uWS itself (1006, no close frame).
 *
 * @module
 */
import type { HttpRequest, HttpResponse, WebSocket, WebSocketBehavior, us_socket_context_t } from "uWebSockets.js";
import type { Address, App, HeaderList } from "./events.js";
import type { WebSocketScope } from "./websocket-events.js";
import type { Logger } from "../../lib/logger.js";
import { WebSocketSession, defaultMaxQueuedBytes, runWebSocketApp, type WebSocketTransport } from "./websocket-session.js";
import { checkHandshake } from "./websocket-handshake.js";
import { decodePath } from "./request-target.js";
import { errorBody } from "./node-error-response.js";
import { writeUwsResponse } from "./uws-error-response.js";
import { peerAddress } from "./uws-address.js";

/** Settings for every WebSocket connection of one uWS server. */
export interface UwsWebSocketAdapterOptions {
  logger: Logger;
  /** Largest incoming message in bytes; uWS closes the connection (1009) past it. */
  maxMessageSize: number;
  /** Idle timeout in milliseconds; 0 disables. */
  idleTimeout: number;
  maxUrlLength: number;
  maxHeaderSize: number;
  serverAddress: Address;
  state?: Record<string, unknown>;
  /** The server speaks TLS: scopes say `wss`. */
  secure: boolean;
}

/** What uWS stores on each WebSocket for us. */
interface UserData {
  transport: UwsWebSocketTransport;
}

/** Buffered outgoing bytes past which `send()` waits for uWS's drain. */
const SEND_HIGH_WATER = 64 * 1024;
/** uWS drops (and, with closeOnBackpressureLimit, closes) past this: only reached by apps that ignore `await send()`. */
const MAX_BACKPRESSURE = 64 * 1024 * 1024;

const decoder = new TextDecoder();

/** Runs apps for WebSocket handshakes on uWS; `uwsApp.ws("/*", adapter.behavior(uws.DISABLED))`. */
export class UwsWebSocketAdapter {
  /** Set by the server when it starts closing: new handshakes get 503. */
  closing = false;
  readonly options: UwsWebSocketAdapterOptions;
  private readonly app: App;
  private readonly sessions = new Set<WebSocketSession>();

  constructor(app: App, options: UwsWebSocketAdapterOptions) {
    this.app = app;
    this.options = options;
  }

  /** The uWS route behaviour. `compression` is uWS's `DISABLED` constant (permessage-deflate off). */
  behavior(compression: number): WebSocketBehavior<UserData> {
    const idle = this.options.idleTimeout;
    return {
      compression,
      // uWS drops an oversized message's connection without a close frame (the peer sees 1006);
      // with headroom here, the limit is checked in `message` and answered with 1009 as on node.
      maxPayloadLength: Math.max(2 * this.options.maxMessageSize, this.options.maxMessageSize + 64 * 1024),
      idleTimeout: idle <= 0 ? 0 : Math.max(8, Math.round(idle / 1000)),
      sendPingsAutomatically: true,
      maxBackpressure: MAX_BACKPRESSURE,
      closeOnBackpressureLimit: 1,
      upgrade: (res, req, context) => this.upgrade(res, req, context),
      open: (ws) => ws.getUserData().transport.opened(ws),
      message: (ws, message, isBinary) => ws.getUserData().transport.message(message, isBinary),
      drain: (ws) => ws.getUserData().transport.drain(),
      close: (ws, code, message) => ws.getUserData().transport.closed(code, message),
    };
  }

  /** Server shutdown: open connections get close 1001, pending handshakes 503. */
  shutdown(): void {
    this.closing = true;
    for (const session of this.sessions) session.shutdown();
  }

  private upgrade(res: HttpResponse, req: HttpRequest, context: us_socket_context_t): void {
    const options = this.options;
    const rawPath = req.getUrl();
    const queryString = (req.getQuery() as string | undefined) ?? "";
    const headers: HeaderList = [];
    let headerBytes = rawPath.length + queryString.length + 15;
    req.forEach((name, value) => {
      headers.push([name, value]);
      headerBytes += name.length + value.length + 4;
    });
    if (headerBytes > options.maxHeaderSize) return writeUwsResponse(res, 431, [], errorBody(431));
    if (rawPath.length + (queryString === "" ? 0 : queryString.length + 1) > options.maxUrlLength) {
      return writeUwsResponse(res, 414, [], errorBody(414));
    }
    if (this.closing) return writeUwsResponse(res, 503, [], errorBody(503));
    const handshake = checkHandshake("GET", headers);
    if (!handshake.ok) {
      return writeUwsResponse(res, handshake.status, [["content-type", "application/json"], ...handshake.headers], errorBody(handshake.status, handshake.detail));
    }
    const path = decodePath(rawPath);
    if (path === null) return writeUwsResponse(res, 400, [], errorBody(400, "Malformed percent-encoding in the request path"));
    const state = options.state;
    const scope: WebSocketScope = {
      type: "websocket",
      path,
      rawPath,
      queryString,
      headers,
      httpVersion: "1.1",
      scheme: options.secure ? "wss" : "ws",
      client: [peerAddress(res.getRemoteAddressAsText()), 0],
      server: options.serverAddress,
      rootPath: "",
      subprotocols: handshake.subprotocols,
      state: state === undefined ? {} : { ...state },
      pathParams: undefined,
      extensions: undefined,
    };
    const transport = new UwsWebSocketTransport(res, context, handshake.key, options.maxMessageSize);
    res.onAborted(() => transport.aborted());
    const session = new WebSocketSession(scope, transport, {
      logger: options.logger,
      maxQueuedBytes: defaultMaxQueuedBytes(options.maxMessageSize),
    });
    transport.session = session;
    this.sessions.add(session);
    void this.run(session);
  }

  private async run(session: WebSocketSession): Promise<void> {
    await runWebSocketApp(this.app, session);
    this.sessions.delete(session);
  }
}

/** One connection: the pending `HttpResponse` until the handshake is answered, the `WebSocket` after. */
class UwsWebSocketTransport implements WebSocketTransport {
  session!: WebSocketSession;
  private res: HttpResponse | null;
  private ws: WebSocket<UserData> | null = null;
  private readonly context: us_socket_context_t;
  private readonly key: string;
  private readonly maxMessageSize: number;
  private drainWaiters: Array<() => void> = [];

  constructor(res: HttpResponse, context: us_socket_context_t, key: string, maxMessageSize: number) {
    this.res = res;
    this.maxMessageSize = maxMessageSize;
    this.context = context;
    this.key = key;
  }

  accept(subprotocol: string | undefined, headers: HeaderList): void {
    const res = this.res;
    if (res === null) return;
    this.res = null;
    res.cork(() => {
      // Custom headers need the 101 status written first, or uWS writes "200 OK" for them.
      res.writeStatus("101 Switching Protocols");
      for (const [name, value] of headers) res.writeHeader(name, value);
      // "" extensions: permessage-deflate is not negotiated. `open` runs inside upgrade().
      res.upgrade<UserData>({ transport: this }, this.key, subprotocol ?? "", "", this.context);
    });
  }

  deny(status: number, headers: HeaderList, body: Uint8Array): void {
    const res = this.res;
    if (res === null) return;
    this.res = null;
    writeUwsResponse(res, status, headers, body);
  }

  /** The client went away before the handshake was answered. */
  aborted(): void {
    this.res = null;
    this.session.onClose(1006, "");
  }

  opened(ws: WebSocket<UserData>): void {
    this.ws = ws;
  }

  message(message: ArrayBuffer, isBinary: boolean): void {
    if (message.byteLength > this.maxMessageSize) {
      this.ws?.end(1009, "Message too big");
      return;
    }
    this.session.onMessage(isBinary ? new Uint8Array(message.slice(0)) : decoder.decode(message));
  }

  drain(): void {
    const ws = this.ws;
    if (ws === null || ws.getBufferedAmount() > SEND_HIGH_WATER) return;
    this.wakeDrainWaiters();
  }

  closed(code: number, message: ArrayBuffer): void {
    this.ws = null;
    this.wakeDrainWaiters();
    this.session.onClose(code, decoder.decode(message));
  }

  send(data: string | Uint8Array, binary: boolean): boolean {
    const ws = this.ws as WebSocket<UserData>;
    let status = 1;
    ws.cork(() => {
      status = ws.send(data, binary);
    });
    // 0: buffered (backpressure); 2: dropped past MAX_BACKPRESSURE (uWS then closes the socket).
    return status !== 1;
  }

  drained(): Promise<void> {
    const ws = this.ws;
    if (ws === null || ws.getBufferedAmount() <= SEND_HIGH_WATER) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  close(code: number, reason: string): void {
    // end() calls the close handler synchronously: `closed` runs before this returns.
    this.ws?.end(code, reason);
  }

  terminate(): void {
    if (this.ws !== null) this.ws.close();
    else if (this.res !== null) {
      const res = this.res;
      this.res = null;
      res.close();
    }
  }

  /** Not available on this uWS build's WebSocket: the session's queue limit bounds a flood instead. */
  pause(): void {}
  resume(): void {}

  private wakeDrainWaiters(): void {
    const waiters = this.drainWaiters;
    if (waiters.length === 0) return;
    this.drainWaiters = [];
    for (const wake of waiters) wake();
  }
}
