/**
 * Layer 1 on node:http2: a {@link ConnectionServer} for HTTP/2, running the app through
 * {@link NodeHttp2Adapter} (one app call per stream, streams multiplexed on a connection).
 *
 * - With `tls`: HTTP/2 over TLS, negotiated by ALPN (RFC 7301; `h2` first). A client that does
 *   not offer `h2` gets HTTP/1.1 on the same port, served by the node:http adapter with the same
 *   app, limits and error responses as {@link NodeHttpServer} (and WebSocket upgrades, which
 *   HTTP/2 does not carry here: RFC 8441 is not implemented).
 * - Without `tls`: cleartext HTTP/2 with prior knowledge (h2c, RFC 9113 §3.3): the client starts
 *   with the connection preface. The HTTP/1.1 `Upgrade: h2c` dance is not offered (RFC 9113
 *   deprecated it), nor HTTP/1.1 on that port.
 *
 * Limits ({@link ServerLimits} mapped onto HTTP/2):
 * - `maxHeaderSize` → SETTINGS_MAX_HEADER_LIST_SIZE, which nghttp2 enforces (RST_STREAM,
 *   ENHANCE_YOUR_CALM) once the client acknowledged it; before that, and as a second check, the
 *   adapter answers 431;
 * - `maxUrlLength` → 414 on a longer `:path`; `maxBodySize` → 413 (see the adapter);
 * - `requestTimeout` → the time a stream may take to deliver its whole request body (408);
 * - `keepAliveTimeout` → the idle timeout: GOAWAY once a connection has had no open stream that
 *   long; `headersTimeout` → the TLS handshake timeout;
 * - {@link Http2ServerOptions.maxConcurrentStreams} → SETTINGS_MAX_CONCURRENT_STREAMS (default 100,
 *   RFC 9113 §6.5.2's recommended minimum); nghttp2 refuses streams past it.
 *
 * Abuse (the connection is closed, the process stays healthy): see http2-session-guard.ts for
 * rapid reset and PING/SETTINGS floods; nghttp2 closes sessions that send too many invalid frames
 * or refused streams, and bounds per-session memory (`maxSessionMemory`).
 *
 * Graceful close: every connection gets GOAWAY (RFC 9113 §6.8) naming the last stream it may
 * finish; open streams run to completion, new ones are refused; whatever is left after `timeout`
 * is destroyed.
 *
 * @module
 */
import * as http2 from "node:http2";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2SecureServer, Http2Server as NodeHttp2Server, ServerHttp2Session } from "node:http2";
import type { Socket } from "node:net";
import * as net from "node:net";
import type { App } from "../adapter/events.js";
import type { CloseOptions, ConnectionServer, ListenOptions, ListeningAddress, ServerLimits } from "./connection-server.js";
import type { NodeHttpServerOptions } from "./node-http-server.js";
import { IDLE_GRACE_MS, resolveLimits } from "./connection-server.js";
import { listenOn } from "./listen-socket.js";
import { NodeHttp2Adapter } from "../adapter/node-http2-adapter.js";
import { NodeHttpAdapter } from "../adapter/node-http-adapter.js";
import { NodeWebSocketAdapter } from "../adapter/node-websocket-adapter.js";
import { writeErrorResponse } from "../adapter/node-error-response.js";
import { onClientError } from "./node-http-server.js";
import { DEFAULT_ABUSE_LIMITS, Http2SessionGuard, type Http2AbuseLimits } from "./http2-session-guard.js";
import { createLogger, type Logger } from "../../lib/logger.js";

export type { Http2AbuseLimits } from "./http2-session-guard.js";

/** What {@link Http2Server} can be given up front. */
export interface Http2ServerOptions {
  /** Logger used when `listen()` is given none. Default: a pino logger. */
  logger?: Logger;
  /** SETTINGS_MAX_CONCURRENT_STREAMS advertised to clients. Default 100. */
  maxConcurrentStreams?: number;
  /** Per-connection abuse bounds; unset fields keep {@link DEFAULT_ABUSE_LIMITS}. */
  abuse?: Partial<Http2AbuseLimits>;
  /** The clock the abuse windows are read from. Default `Date.now`. */
  now?: () => number;
  /**
   * Bodies with a content-length up to this many bytes are read before the app runs and arrive as
   * one event, on HTTP/2 and on the HTTP/1.1 fallback (as {@link NodeHttpServerOptions.prereadLimit}).
   * Default 64 KiB; 0 streams every body.
   */
  prereadLimit?: number;
}

/** Default graceful-close timeout ({@link CloseOptions.timeout}). */
const DEFAULT_CLOSE_TIMEOUT = 10_000;

/** Default {@link Http2ServerOptions.prereadLimit} (node:http's too). */
const DEFAULT_PREREAD_LIMIT = 64 * 1024;

/** Default {@link Http2ServerOptions.maxConcurrentStreams}. */
const DEFAULT_MAX_CONCURRENT_STREAMS = 100;

/**
 * A connection server on node:http2.
 *
 * @example
 * const server = new Http2Server({ logger: silentLogger });
 * const { url } = await server.listen(app, { port: 0 }); // h2c
 * const secure = await new Http2Server().listen(app, { port: 8443, tls: { key, cert } }); // h2 + HTTP/1.1
 */
export class Http2Server implements ConnectionServer {
  private readonly defaultLogger: Logger | undefined;
  private readonly maxConcurrentStreams: number;
  private readonly abuse: Http2AbuseLimits;
  private readonly now: () => number;
  private readonly prereadLimit: number;
  private server: NodeHttp2Server | Http2SecureServer | undefined;
  private readonly sessions = new Set<ServerHttp2Session>();
  private readonly sockets = new Set<Socket>();
  private http1: NodeHttpAdapter | undefined;
  private websockets: NodeWebSocketAdapter | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: Http2ServerOptions = {}) {
    this.defaultLogger = options.logger;
    this.maxConcurrentStreams = options.maxConcurrentStreams ?? DEFAULT_MAX_CONCURRENT_STREAMS;
    this.abuse = { ...DEFAULT_ABUSE_LIMITS };
    for (const key of Object.keys(DEFAULT_ABUSE_LIMITS) as Array<keyof Http2AbuseLimits>) {
      const value = options.abuse?.[key];
      if (value !== undefined) this.abuse[key] = value;
    }
    this.now = options.now ?? Date.now;
    this.prereadLimit = options.prereadLimit ?? DEFAULT_PREREAD_LIMIT;
  }

  /** Starts accepting for `app`; resolves with the bound address (port 0 picks a free port). */
  async listen(app: App, options: ListenOptions = {}): Promise<ListeningAddress> {
    if (this.server !== undefined) throw new Error("Http2Server is already listening");
    const limits = resolveLimits(options);
    const logger = options.logger ?? this.defaultLogger ?? createLogger();
    const guard = new Http2SessionGuard({ limits: this.abuse, idleTimeout: limits.keepAliveTimeout, now: this.now, logger });
    const adapter = new NodeHttp2Adapter(app, {
      logger,
      maxBodySize: limits.maxBodySize,
      maxUrlLength: limits.maxUrlLength,
      maxHeaderSize: limits.maxHeaderSize,
      requestTimeout: limits.requestTimeout,
      prereadLimit: this.prereadLimit,
      state: options.state,
      observer: guard,
    });
    const http2Options: http2.ServerOptions = {
      settings: {
        maxConcurrentStreams: this.maxConcurrentStreams,
        maxHeaderListSize: limits.maxHeaderSize,
        enablePush: false,
        // RFC 8441 (WebSockets over HTTP/2) is not implemented: do not advertise it.
        enableConnectProtocol: false,
      },
      // nghttp2's own bounds, spelled out (node's defaults) so they are visible and reviewable.
      maxSessionInvalidFrames: 1000,
      maxSessionRejectedStreams: 100,
      maxOutstandingPings: 10,
      maxSettings: 32,
      maxSessionMemory: 10,
      maxHeaderListPairs: 128,
    };
    const tls = options.tls;
    let server: NodeHttp2Server | Http2SecureServer;
    if (tls === undefined) {
      server = http2.createServer(http2Options);
    } else {
      const secure = http2.createSecureServer({
        ...http2Options,
        key: tls.key,
        cert: tls.cert,
        passphrase: tls.passphrase,
        allowHTTP1: true,
        handshakeTimeout: limits.headersTimeout > 0 ? limits.headersTimeout : 120_000,
      });
      this.setUpHttp1(secure, app, options.state, limits, logger);
      server = secure;
    }
    server.on("stream", adapter.handle);
    server.on("session", (session: ServerHttp2Session) => {
      this.sessions.add(session);
      guard.attach(session);
      session.once("close", () => this.sessions.delete(session));
    });
    server.on("connection", (socket: Socket) => {
      this.sockets.add(socket);
      socket.once("close", () => this.sockets.delete(socket));
    });
    // A session that fails (protocol error, a peer's bad frames) is destroyed by node; log it.
    server.on("sessionError", (err: Error) => logger.debug({ err: { message: err.message, code: (err as NodeJS.ErrnoException).code } }, "http2 session error"));

    const address = await listenOn(server, options, tls !== undefined, logger);
    this.server = server;
    return address;
  }

  /**
   * HTTP/1.1 for TLS clients that did not negotiate h2: node's http1 machinery on this server,
   * configured like {@link NodeHttpServer}.
   */
  private setUpHttp1(server: Http2SecureServer, app: App, state: Record<string, unknown> | undefined, limits: ServerLimits, logger: Logger): void {
    const adapter = new NodeHttpAdapter(app, { logger, maxBodySize: limits.maxBodySize, state, prereadLimit: this.prereadLimit });
    const handle = adapter.handle;
    const maxUrlLength = limits.maxUrlLength;
    const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
      if ((req.url as string).length > maxUrlLength) {
        writeErrorResponse(res, 414, undefined, true);
        return;
      }
      handle(req, res);
    };
    // node's HTTP/1 path on an http2 server reads these from the server object, as node:http does.
    const requestTimeout = limits.requestTimeout;
    const http1 = server as unknown as {
      maxHeaderSize: number;
      requestTimeout: number;
      headersTimeout: number;
      keepAliveTimeout: number;
      connectionsCheckingInterval: number;
    };
    http1.maxHeaderSize = limits.maxHeaderSize;
    http1.requestTimeout = requestTimeout;
    http1.headersTimeout = requestTimeout > 0 ? Math.min(limits.headersTimeout, requestTimeout) : limits.headersTimeout;
    http1.keepAliveTimeout = limits.keepAliveTimeout;
    const shortest = Math.min(http1.headersTimeout || Infinity, requestTimeout || Infinity);
    http1.connectionsCheckingInterval = Number.isFinite(shortest) ? Math.max(10, Math.min(1_000, Math.floor(shortest / 4))) : 30_000;
    // Adding a 'request' listener makes node install its compatibility layer for HTTP/2 streams
    // too (Http2ServerRequest/Response, a second app call per stream); HTTP/2 streams go to the
    // stream adapter instead, so that listener is removed again before ours is added.
    server.on("request", onRequest);
    server.removeAllListeners("stream");
    const websockets = new NodeWebSocketAdapter(app, {
      logger,
      maxMessageSize: limits.maxMessageSize,
      idleTimeout: limits.websocketIdleTimeout,
      maxUrlLength,
      state,
      serveHttp: onRequest,
    });
    server.on("upgrade", websockets.handleUpgrade);
    server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => onClientError(err, socket, logger));
    this.http1 = adapter;
    this.websockets = websockets;
  }

  /**
   * Graceful close: stop accepting, send GOAWAY on every connection (open streams finish, new
   * ones are refused), give HTTP/1.1 connections the treatment of {@link NodeHttpServer.close},
   * destroy what is left after `timeout`. Calling it again returns the same promise.
   */
  close(options: CloseOptions = {}): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    const server = this.server;
    if (server === undefined) return Promise.resolve();
    if (this.http1 !== undefined) this.http1.closing = true;
    this.websockets?.shutdown();
    const timeout = options.timeout ?? DEFAULT_CLOSE_TIMEOUT;
    this.closing = new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        for (const session of this.sessions) session.destroy();
        for (const socket of this.sockets) socket.destroy();
        this.websockets?.destroyAll();
      }, timeout);
      // HTTP/1.1 fallback connections idle after the grace are closed (see NodeHttpServer.close).
      const grace = setTimeout(() => (server as unknown as { closeIdleConnections(): void }).closeIdleConnections(), Math.min(IDLE_GRACE_MS, timeout));
      net.Server.prototype.close.call(server, () => {
        clearTimeout(timer);
        clearTimeout(grace);
        // With HTTP/1.1 fallback: stops node's connection-checking interval.
        if (this.http1 !== undefined) (server as Http2SecureServer).close();
        resolve();
      });
      // session.close(): GOAWAY with the last stream id; the session ends when its streams have.
      for (const session of this.sessions) session.close();
    });
    return this.closing;
  }
}
