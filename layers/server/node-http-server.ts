/**
 * Layer 1 on node:http: a {@link ConnectionServer} that parses HTTP/1.1 with node's llhttp and runs
 * the app through {@link NodeHttpAdapter}.
 *
 * Keep-alive and pipelining are node's (responses go out in request order). What this file adds:
 * the limits of {@link ServerLimits} mapped onto node's options, a `clientError` handler that
 * answers malformed input with a small JSON error and drops the connection, the 414 check, and a
 * graceful close that lets in-flight requests finish.
 *
 * @module
 */
import * as http from "node:http";
import * as https from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import * as net from "node:net";
import type { Socket } from "node:net";
import type { App } from "../adapter/events.js";
import type { CloseOptions, ConnectionServer, ListenOptions, ListeningAddress, ServerLimits } from "./connection-server.js";
import { IDLE_GRACE_MS, resolveLimits } from "./connection-server.js";
import { listenOn } from "./listen-socket.js";
import { NodeHttpAdapter } from "../adapter/node-http-adapter.js";
import { NodeWebSocketAdapter } from "../adapter/node-websocket-adapter.js";
import { rawErrorResponse, writeErrorResponse } from "../adapter/node-error-response.js";
import { createLogger, type Logger } from "../../lib/logger.js";

/** What {@link NodeHttpServer} can be given up front (tests inject both). */
export interface NodeHttpServerOptions {
  /** Logger used when `listen()` is given none. Default: a pino logger ({@link createLogger}). */
  logger?: Logger;
  /** Replaces `http.createServer` (a test can wrap or observe the node server). */
  createServer?: typeof http.createServer;
  /**
   * Bodies with a Content-Length up to this many bytes are read before the app runs and handed
   * to it as one event (nginx buffers request bodies the same way); larger and chunked bodies
   * stream. Default 64 KiB; 0 streams every body.
   */
  prereadLimit?: number;
}

/** Default {@link NodeHttpServerOptions.prereadLimit}. */
const DEFAULT_PREREAD_LIMIT = 64 * 1024;

/** Default graceful-close timeout ({@link CloseOptions.timeout}). */
const DEFAULT_CLOSE_TIMEOUT = 10_000;

/**
 * A connection server on node:http.
 *
 * @example
 * const server = new NodeHttpServer({ logger: silentLogger });
 * const { url } = await server.listen(app, { port: 0, maxBodySize: 64 * 1024 });
 * // … later
 * await server.close({ timeout: 5_000 });
 */
export class NodeHttpServer implements ConnectionServer {
  private readonly defaultLogger: Logger | undefined;
  private readonly createServer: typeof http.createServer;
  private readonly prereadLimit: number;
  private server: http.Server | undefined;
  private adapter: NodeHttpAdapter | undefined;
  private websockets: NodeWebSocketAdapter | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: NodeHttpServerOptions = {}) {
    this.defaultLogger = options.logger;
    this.createServer = options.createServer ?? http.createServer;
    this.prereadLimit = options.prereadLimit ?? DEFAULT_PREREAD_LIMIT;
  }

  /** Starts accepting for `app`; resolves with the bound address (port 0 picks a free port). */
  async listen(app: App, options: ListenOptions = {}): Promise<ListeningAddress> {
    if (this.server !== undefined) throw new Error("NodeHttpServer is already listening");
    const limits = resolveLimits(options);
    const logger = options.logger ?? this.defaultLogger ?? createLogger();
    const adapter = new NodeHttpAdapter(app, {
      logger,
      maxBodySize: limits.maxBodySize,
      state: options.state,
      prereadLimit: this.prereadLimit,
    });
    const handle = adapter.handle;
    const maxUrlLength = limits.maxUrlLength;
    // node refuses headersTimeout > requestTimeout; a request timeout bounds the headers anyway.
    const requestTimeout = limits.requestTimeout;
    const headersTimeout = requestTimeout > 0 ? Math.min(limits.headersTimeout, requestTimeout) : limits.headersTimeout;
    // node checks those timeouts on an interval (default 30 s, which would make a 10 s headers
    // timeout fire anywhere up to 40 s); check a few times per timeout instead.
    const shortest = Math.min(headersTimeout || Infinity, requestTimeout || Infinity);
    const connectionsCheckingInterval = Number.isFinite(shortest) ? Math.max(10, Math.min(1_000, Math.floor(shortest / 4))) : 30_000;

    const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
      // RFC 9112 §3: the server decides its own limit for the request target; past it, 414
      // (RFC 9110 §15.5.15). Checked before the app, like the body limit.
      if ((req.url as string).length > maxUrlLength) {
        writeErrorResponse(res, 414, undefined, true);
        return;
      }
      handle(req, res);
    };
    const tls = options.tls;
    // https.createServer takes the same HTTP options plus the TLS material; every listener below
    // (clientError, upgrade) is the same on both.
    const create = tls === undefined ? this.createServer : (https.createServer as unknown as typeof http.createServer);
    const server = create(
      {
        ...(tls === undefined ? {} : { key: tls.key, cert: tls.cert, passphrase: tls.passphrase }),
        maxHeaderSize: limits.maxHeaderSize,
        requestTimeout,
        headersTimeout,
        keepAliveTimeout: limits.keepAliveTimeout,
        connectionsCheckingInterval,
        // RFC 9112 §3.2 (Host missing or repeated → 400) is checked by the adapter, so that the 400
        // carries the same JSON body as every other error; node's own check answers with no body.
        requireHostHeader: false,
        noDelay: true,
      },
      onRequest,
    );
    server.keepAliveTimeout = limits.keepAliveTimeout;
    const websockets = new NodeWebSocketAdapter(app, {
      logger,
      maxMessageSize: limits.maxMessageSize,
      idleTimeout: limits.websocketIdleTimeout,
      maxUrlLength,
      state: options.state,
      serveHttp: onRequest,
    });
    server.on("upgrade", websockets.handleUpgrade);
    server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => onClientError(err, socket, logger));

    const address = await listenOn(server, options, tls !== undefined, logger);
    this.server = server;
    this.adapter = adapter;
    this.websockets = websockets;
    return address;
  }

  /**
   * Graceful close: stop accepting, let in-flight requests finish (their responses carry
   * `connection: close`), destroy what is left after `timeout`. Resolves when every connection is
   * closed; calling it again returns the same promise.
   *
   * Idle keep-alive connections are not closed at once (as node's own `server.close()` does): a
   * client may have written its next request on one already, and closing under it loses that
   * request (the race RFC 9112 §9.6 leaves to client retries, which few clients do). Each instead
   * gets `connection: close` on its next response; those still idle after {@link IDLE_GRACE_MS}
   * are closed then, when a request racing the close is no likelier than at any keep-alive timeout.
   */
  close(options: CloseOptions = {}): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    const server = this.server;
    if (server === undefined) return Promise.resolve();
    (this.adapter as NodeHttpAdapter).closing = true;
    // Open WebSockets are told the server is going away (1001); their sockets end with the handshake.
    (this.websockets as NodeWebSocketAdapter).shutdown();
    const timeout = options.timeout ?? DEFAULT_CLOSE_TIMEOUT;
    this.closing = new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.closeAllConnections();
        (this.websockets as NodeWebSocketAdapter).destroyAll();
      }, timeout);
      // node ≥ 19: http's close() also closes idle keep-alive connections (closeIdleConnections),
      // which is done after the grace; net's only stops accepting (in a cluster worker: tells the
      // master to stop handing it connections).
      const grace = setTimeout(() => server.close(), Math.min(IDLE_GRACE_MS, timeout));
      net.Server.prototype.close.call(server, () => {
        clearTimeout(timer);
        clearTimeout(grace);
        // Stops http's connection-checking interval; nothing else is left to close.
        server.close();
        resolve();
      });
    });
    return this.closing;
  }
}

/**
 * node could not parse what the client sent (or the client was too slow). Answer once, close.
 *
 * - `HPE_HEADER_OVERFLOW`: request line + headers past maxHeaderSize → 431 (RFC 6585 §5);
 * - `ERR_HTTP_REQUEST_TIMEOUT`: headers/request not received in time → 408 (RFC 9110 §15.5.9);
 * - everything else llhttp rejects — malformed request line, bad version, header without colon or
 *   with whitespace before it (RFC 9112 §5.1), obs-fold, NUL/CR/LF in values, bad chunk sizes,
 *   Content-Length together with Transfer-Encoding (request smuggling, RFC 9112 §6.3) → 400.
 *
 * Nothing is written when a response has already started on this connection (the client would
 * read our bytes as the rest of it), nor to a connection the peer already reset.
 */
export function onClientError(err: NodeJS.ErrnoException, socket: Socket, logger: Logger): void {
  const code = err.code;
  if (code === "ECONNRESET" || code === "EPIPE" || !socket.writable) {
    socket.destroy();
    return;
  }
  const status = code === "HPE_HEADER_OVERFLOW" ? 431 : code === "ERR_HTTP_REQUEST_TIMEOUT" ? 408 : 400;
  logger.debug({ err: { code, message: err.message }, status }, "client error");
  const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (inFlight === null || inFlight === undefined || !inFlight.headersSent) {
    // end() flushes then sends FIN; destroy once written (a peer that never reads cannot hold it:
    // node's timeouts no longer apply to a connection whose parser failed).
    socket.end(rawErrorResponse(status), () => socket.destroy());
    setImmediate(destroyUnlessFlushed, socket);
  } else {
    socket.destroy();
  }
}

/** After one turn, a socket whose small error response still is not flushed is destroyed. */
function destroyUnlessFlushed(socket: Socket): void {
  if (!socket.destroyed && socket.writableLength > 0) socket.destroy();
}
