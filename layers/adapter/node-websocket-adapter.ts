/**
 * Layer 2 for WebSockets on node:http: turns an `upgrade` request into a `websocket` scope and a
 * {@link WebSocketSession}, and completes or rejects the handshake with the `ws` package when the
 * app says so.
 *
 * node hands over the raw socket on `upgrade`; nothing is written to it until the app answers:
 * `websocket.accept` runs ws's `handleUpgrade` (101, the chosen subprotocol, the app's extra
 * headers), a denial writes a plain HTTP response and closes. Frames, masking, fragmentation, UTF-8
 * checks, the message size limit (close 1009) and the closing handshake are ws's.
 *
 * Idle connections: one timer per server sweeps every open connection; a connection that has sent
 * nothing (no message, no pong) for half of `idleTimeout` is pinged, and one silent for the whole
 * of it is dropped (the app sees code 1006).
 *
 * @module
 */
import { STATUS_CODES, ServerResponse, type IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { WebSocketServer, type WebSocket } from "ws";
import type { App, HeaderList } from "./events.js";
import type { WebSocketScope } from "./websocket-events.js";
import type { Logger } from "../../lib/logger.js";
import { WebSocketSession, defaultMaxQueuedBytes, runWebSocketApp, type WebSocketTransport } from "./websocket-session.js";
import { checkHandshake, isWebSocketUpgrade } from "./websocket-handshake.js";
import { splitTarget } from "./request-target.js";
import { errorBody } from "./node-error-response.js";

/** Settings for every WebSocket connection of one node:http server. */
export interface NodeWebSocketAdapterOptions {
  logger: Logger;
  /** Largest incoming message in bytes; a larger one closes the connection with 1009. */
  maxMessageSize: number;
  /** Milliseconds of silence from the peer (pinged halfway) after which it is dropped; 0 disables. */
  idleTimeout: number;
  /** Request target longer than this: 414. */
  maxUrlLength: number;
  state?: Record<string, unknown>;
  /**
   * The server's HTTP request handler: a request that asks to upgrade to something other than
   * WebSocket (curl's `Upgrade: h2c` probe) is served as plain HTTP through it.
   */
  serveHttp: (req: IncomingMessage, res: ServerResponse) => void;
}

/** Buffered outgoing bytes past which `send()` waits for the socket to drain. */
const SEND_HIGH_WATER = 64 * 1024;

const kSubprotocol = Symbol("laminar.ws.subprotocol");
const kHeaders = Symbol("laminar.ws.headers");
type TaggedRequest = IncomingMessage & { [kSubprotocol]?: string; [kHeaders]?: HeaderList };

/** Runs apps for WebSocket upgrades; one per server, `server.on("upgrade", adapter.handleUpgrade)`. */
export class NodeWebSocketAdapter {
  /** Set by the server when it starts closing: new handshakes get 503. */
  closing = false;
  /** The `upgrade` listener (bound). */
  readonly handleUpgrade: (req: IncomingMessage, socket: Socket, head: Buffer) => void;
  readonly wss: WebSocketServer;
  readonly options: NodeWebSocketAdapterOptions;
  private readonly app: App;
  private readonly sessions = new Set<WebSocketSession>();
  /** Every upgraded socket not yet closed (node's server stops tracking them at the upgrade). */
  private readonly sockets = new Set<Socket>();
  /** Open connections and when each was last heard from (for the idle sweep). */
  private readonly lastHeard = new Map<WebSocket, { at: number; pinged: boolean }>();
  private sweeper: NodeJS.Timeout | null = null;

  constructor(app: App, options: NodeWebSocketAdapterOptions) {
    this.app = app;
    this.options = options;
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxMessageSize,
      perMessageDeflate: false,
      clientTracking: false,
      handleProtocols: (_offered, req) => (req as TaggedRequest)[kSubprotocol] ?? false,
    });
    this.wss.on("headers", (lines: string[], req: IncomingMessage) => {
      const extra = (req as TaggedRequest)[kHeaders];
      if (extra !== undefined) for (const [name, value] of extra) lines.push(`${name}: ${value}`);
    });
    this.handleUpgrade = (req, socket, head) => this.upgrade(req, socket, head);
  }

  /** Server shutdown: open connections get close 1001, pending handshakes 503. */
  shutdown(): void {
    this.closing = true;
    for (const session of this.sessions) session.shutdown();
  }

  /** The graceful close timed out: drop every upgraded connection still open. */
  destroyAll(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  private upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    // A reset during the handshake must not become an uncaught 'error'.
    socket.on("error", ignore);
    this.sockets.add(socket);
    socket.once("close", () => this.sockets.delete(socket));
    const raw = req.rawHeaders;
    const headers: HeaderList = [];
    for (let i = 0; i < raw.length; i += 2) headers.push([raw[i]!.toLowerCase(), raw[i + 1]!]);
    if (!isWebSocketUpgrade(headers)) return this.serveAsHttp(req, socket);
    const url = req.url as string;
    if (this.closing) return writeRaw(socket, 503, [], errorBody(503));
    if (url.length > this.options.maxUrlLength) return writeRaw(socket, 414, [], errorBody(414));
    const handshake = checkHandshake(req.method as string, headers);
    if (!handshake.ok) return writeRaw(socket, handshake.status, handshake.headers, errorBody(handshake.status, handshake.detail));
    const target = splitTarget(url);
    if (target.path === null) return writeRaw(socket, 400, [], errorBody(400, "Malformed percent-encoding in the request path"));
    const state = this.options.state;
    const scope: WebSocketScope = {
      type: "websocket",
      path: target.path,
      rawPath: target.rawPath,
      queryString: target.queryString,
      headers,
      httpVersion: "1.1",
      scheme: (socket as TLSSocket).encrypted === true ? "wss" : "ws",
      client: socket.remoteAddress === undefined ? null : [socket.remoteAddress, socket.remotePort as number],
      server: socket.localAddress === undefined ? null : [socket.localAddress, socket.localPort as number],
      rootPath: "",
      subprotocols: handshake.subprotocols,
      state: state === undefined ? {} : { ...state },
      pathParams: undefined,
      extensions: undefined,
    };
    const transport = new NodeWebSocketTransport(this, req as TaggedRequest, socket, head);
    const session = new WebSocketSession(scope, transport, {
      logger: this.options.logger,
      maxQueuedBytes: defaultMaxQueuedBytes(this.options.maxMessageSize),
    });
    transport.session = session;
    this.sessions.add(session);
    void this.run(session);
  }

  /**
   * node hands every request with an `Upgrade` header to the upgrade listener, and detaches its
   * parser. A bodiless one is answered as plain HTTP (RFC 9110 §7.8: a server may ignore an
   * upgrade it does not support) on a response bound to the socket, which closes after it;
   * one with a body cannot be (its bytes are no longer parsed) and gets a 400.
   */
  private serveAsHttp(req: IncomingMessage, socket: Socket): void {
    const length = req.headers["content-length"];
    if ((length !== undefined && length !== "0") || req.headers["transfer-encoding"] !== undefined) {
      return writeRaw(socket, 400, [], errorBody(400, "A request asking for a protocol upgrade cannot carry a body here"));
    }
    const res = new ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket);
    res.once("finish", () => {
      res.detachSocket(socket);
      socket.destroySoon();
    });
    req.push(null);
    this.options.serveHttp(req, res);
  }

  private async run(session: WebSocketSession): Promise<void> {
    await runWebSocketApp(this.app, session);
    this.sessions.delete(session);
  }

  /** A connection opened: watch it for idleness. */
  track(ws: WebSocket): void {
    const idle = this.options.idleTimeout;
    if (idle <= 0) return;
    this.lastHeard.set(ws, { at: Date.now(), pinged: false });
    this.sweeper ??= setInterval(() => this.sweep(), Math.max(10, Math.floor(idle / 4))).unref();
  }

  /** The peer was heard from (a message or a pong). */
  heard(ws: WebSocket): void {
    const entry = this.lastHeard.get(ws);
    if (entry !== undefined) {
      entry.at = Date.now();
      entry.pinged = false;
    }
  }

  untrack(ws: WebSocket): void {
    this.lastHeard.delete(ws);
    if (this.lastHeard.size === 0 && this.sweeper !== null) {
      clearInterval(this.sweeper);
      this.sweeper = null;
    }
  }

  private sweep(): void {
    const idle = this.options.idleTimeout;
    const now = Date.now();
    for (const [ws, entry] of this.lastHeard) {
      const silent = now - entry.at;
      if (silent >= idle) {
        this.options.logger.debug({ silentMs: silent }, "websocket idle timeout");
        ws.terminate();
      } else if (silent >= idle / 2 && !entry.pinged) {
        entry.pinged = true;
        ws.ping();
      }
    }
  }
}

/** One connection: the raw socket until accepted, ws's `WebSocket` after. */
class NodeWebSocketTransport implements WebSocketTransport {
  session!: WebSocketSession;
  private ws: WebSocket | null = null;
  private readonly adapter: NodeWebSocketAdapter;
  private readonly req: TaggedRequest;
  private readonly socket: Socket;
  private readonly head: Buffer;
  private readonly onSocketClose = (): void => this.session.onClose(1006, "");

  constructor(adapter: NodeWebSocketAdapter, req: TaggedRequest, socket: Socket, head: Buffer) {
    this.adapter = adapter;
    this.req = req;
    this.socket = socket;
    this.head = head;
    socket.on("close", this.onSocketClose);
  }

  accept(subprotocol: string | undefined, headers: HeaderList): void {
    this.req[kSubprotocol] = subprotocol;
    this.req[kHeaders] = headers;
    // Synchronous: without a verifyClient hook, ws writes the 101 and calls back at once.
    this.adapter.wss.handleUpgrade(this.req, this.socket, this.head, (ws) => this.opened(ws));
  }

  private opened(ws: WebSocket): void {
    const { session, adapter } = this;
    // From here ws reports the end, with the peer's close code.
    this.socket.removeListener("close", this.onSocketClose);
    this.ws = ws;
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      adapter.heard(ws);
      session.onMessage(isBinary ? data : data.toString("utf8"));
    });
    ws.on("pong", () => adapter.heard(ws));
    ws.on("close", (code: number, reason: Buffer) => {
      adapter.untrack(ws);
      session.onClose(code, reason.toString("utf8"));
    });
    // Protocol errors (bad frames, oversize messages): ws closes the connection itself (1002,
    // 1007, 1009) and then emits 'close'.
    ws.on("error", (err: Error) => adapter.options.logger.debug({ err }, "websocket protocol error"));
    adapter.track(ws);
  }

  deny(status: number, headers: HeaderList, body: Uint8Array): void {
    writeRaw(this.socket, status, headers, body);
  }

  send(data: string | Uint8Array, binary: boolean): boolean {
    const ws = this.ws as WebSocket;
    ws.send(data, { binary });
    return ws.bufferedAmount > SEND_HIGH_WATER;
  }

  drained(): Promise<void> {
    const socket = this.socket;
    if (socket.destroyed || socket.writableLength === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        socket.removeListener("drain", done);
        socket.removeListener("close", done);
        resolve();
      };
      socket.on("drain", done);
      socket.on("close", done);
    });
  }

  close(code: number, reason: string): void {
    this.ws?.close(code, reason);
  }

  terminate(): void {
    if (this.ws !== null) this.ws.terminate();
    else this.socket.destroy();
  }

  pause(): void {
    this.ws?.pause();
  }

  resume(): void {
    this.ws?.resume();
  }
}

function ignore(): void {}


/**
 * Writes a whole HTTP/1.1 response to a socket that is not (yet) a WebSocket, then closes it:
 * handshake errors and denial responses. Destroyed after one turn if the peer does not read it.
 */
function writeRaw(socket: Socket, status: number, headers: HeaderList, body: Uint8Array | string): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const bytes = typeof body === "string" ? Buffer.from(body) : body;
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Unknown"}\r\n`;
  let typed = false;
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    // Framing is ours: the body is whole and the connection closes after it.
    if (lower === "content-length" || lower === "transfer-encoding" || lower === "connection") continue;
    if (lower === "content-type") typed = true;
    head += `${name}: ${value}\r\n`;
  }
  if (!typed && bytes.byteLength > 0 && typeof body === "string") head += "content-type: application/json\r\n";
  head += `content-length: ${bytes.byteLength}\r\nconnection: close\r\n\r\n`;
  socket.write(head);
  socket.end(bytes, () => socket.destroy());
  setImmediate(() => {
    if (!socket.destroyed && socket.writableLength > 0) socket.destroy();
  });
}
