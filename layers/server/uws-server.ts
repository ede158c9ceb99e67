/**
 * Layer 1 on uWebSockets.js: a {@link ConnectionServer} whose sockets and HTTP/1.1 parsing are
 * uWS's (C++), running the app through {@link UwsAdapter}.
 *
 * How {@link ServerLimits} map (uWS fixes some of them at compile time):
 * - maxHeaderSize, maxUrlLength, maxBodySize: enforced by the adapter (431/414/413, JSON bodies);
 *   uWS's own header limit (a compile-time constant, well above 16 KiB here) answers an HTML 431.
 * - requestTimeout: enforced by the adapter for bodies that stop arriving (408 and close).
 * - headersTimeout, keepAliveTimeout: not configurable; uWS closes a connection idle (or stuck
 *   in its headers) for about 10 s, silently, without a 408.
 *
 * Graceful close: `us_listen_socket_close` (no new connections), open WebSockets get close 1001,
 * then wait for in-flight responses (each carries `connection: close`, so a busy keep-alive
 * connection ends after its next response), then `app.close()`, which closes every remaining
 * (idle) connection. That is done no sooner than {@link IDLE_GRACE_MS} after the close began:
 * closing an idle connection under a request the client has just written loses that request.
 *
 * @module
 */
import { createServer as createNetServer } from "node:net";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TemplatedApp, us_listen_socket } from "uWebSockets.js";
import type { App } from "../adapter/events.js";
import type { CloseOptions, ConnectionServer, ListenOptions, ListeningAddress, ServerLimits, TlsOptions } from "./connection-server.js";
import { IDLE_GRACE_MS, resolveLimits } from "./connection-server.js";
import { UwsAdapter } from "../adapter/uws-adapter.js";
import { UwsWebSocketAdapter } from "../adapter/uws-websocket-adapter.js";
import { loadUws, type UwsModule } from "./uws-load.js";

import { createLogger, type Logger } from "../../lib/logger.js";

/** What {@link UwsServer} can be given up front. */
export interface UwsServerOptions {
  /** Logger used when `listen()` is given none. Default: a pino logger ({@link createLogger}). */
  logger?: Logger;
  /** The uWebSockets.js module to use (default: `loadUws()`; tests inject one). */
  uws?: UwsModule;
  /**
   * Request bodies with a Content-Length up to this many bytes are collected before the app runs
   * and handed over in one event (as node:http's server does). Default 64 KiB; 0 streams every body.
   */
  prereadLimit?: number;
}

/** Default {@link UwsServerOptions.prereadLimit} (node:http's too). */
const DEFAULT_PREREAD_LIMIT = 64 * 1024;

/** Default graceful-close timeout ({@link CloseOptions.timeout}). */
const DEFAULT_CLOSE_TIMEOUT = 10_000;
/** uWS's `LIBUS_LISTEN_EXCLUSIVE_PORT`: without it Linux builds set SO_REUSEPORT and a taken port "works". */
const LISTEN_EXCLUSIVE_PORT = 1;
/** uWS's default listen options (0): SO_REUSEPORT on Linux, for several workers on one port. */
const LISTEN_REUSE_PORT = 0;

/**
 * A connection server on uWebSockets.js.
 *
 * @throws UwsUnavailableError from the constructor when uWebSockets.js cannot be loaded
 * @example
 * const server = new UwsServer({ logger: silentLogger });
 * const { url } = await server.listen(app, { port: 0 });
 * await server.close({ timeout: 5_000 });
 */
export class UwsServer implements ConnectionServer {
  private readonly uws: UwsModule;
  private readonly defaultLogger: Logger | undefined;
  private readonly prereadLimit: number;
  private app: TemplatedApp | undefined;
  private listenSocket: us_listen_socket | undefined;
  private adapter: UwsAdapter | undefined;
  private websockets: UwsWebSocketAdapter | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: UwsServerOptions = {}) {
    this.uws = options.uws ?? loadUws();
    this.defaultLogger = options.logger;
    this.prereadLimit = options.prereadLimit ?? DEFAULT_PREREAD_LIMIT;
  }

  /** Starts accepting for `app`; resolves with the bound address (port 0 picks a free port). */
  async listen(app: App, options: ListenOptions = {}): Promise<ListeningAddress> {
    if (this.app !== undefined) throw new Error("UwsServer is already listening");
    const limits = resolveLimits(options);
    const logger = options.logger ?? this.defaultLogger ?? createLogger();
    const host = options.host ?? "127.0.0.1";
    const uws = this.uws;
    const uwsApp = options.tls === undefined ? uws.App() : createSslApp(uws, options.tls);
    const listenSocket = await new Promise<us_listen_socket | false>((resolve) => {
      // The typings lack the (host, port, options, cb) overload the binary has.
      (uwsApp.listen as unknown as (h: string, p: number, o: number, cb: (s: us_listen_socket | false) => void) => void)(
        host,
        options.port ?? 8000,
        options.reusePort === true ? LISTEN_REUSE_PORT : LISTEN_EXCLUSIVE_PORT,
        resolve,
      );
    });
    if (listenSocket === false) {
      uwsApp.close();
      throw await listenError(host, options.port ?? 8000);
    }
    const port = uws.us_socket_local_port(listenSocket as never);
    const adapter = new UwsAdapter(app, {
      logger,
      maxBodySize: limits.maxBodySize,
      maxUrlLength: limits.maxUrlLength,
      maxHeaderSize: limits.maxHeaderSize,
      requestTimeout: limits.requestTimeout,
      serverAddress: Object.freeze([host, port]) as [string, number],
      state: options.state,
      secure: options.tls !== undefined,
      prereadLimit: this.prereadLimit,
    });
    const websockets = new UwsWebSocketAdapter(app, {
      logger,
      maxMessageSize: limits.maxMessageSize,
      idleTimeout: limits.websocketIdleTimeout,
      maxUrlLength: limits.maxUrlLength,
      maxHeaderSize: limits.maxHeaderSize,
      serverAddress: Object.freeze([host, port]) as [string, number],
      state: options.state,
      secure: options.tls !== undefined,
    });
    // The WebSocket route first: uWS gives it requests carrying a WebSocket key, the rest fall through.
    uwsApp.ws("/*", websockets.behavior(uws.DISABLED));
    uwsApp.any("/*", adapter.handle);
    this.websockets = websockets;
    this.app = uwsApp;
    this.listenSocket = listenSocket;
    this.adapter = adapter;
    const urlHost = host.includes(":") ? `[${host}]` : host;
    return { host, port, url: `${options.tls === undefined ? "http" : "https"}://${urlHost}:${port}` };
  }

  /**
   * Graceful close: stop accepting, let in-flight responses finish (single-body responses then
   * carry `connection: close`), close every connection when none is left or after `timeout`.
   * Calling it again returns the same promise.
   */
  close(options: CloseOptions = {}): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    const uwsApp = this.app;
    const adapter = this.adapter as UwsAdapter;
    if (uwsApp === undefined) return Promise.resolve();
    adapter.closing = true;
    (this.websockets as UwsWebSocketAdapter).shutdown();
    this.uws.us_listen_socket_close(this.listenSocket as us_listen_socket);
    const timeout = options.timeout ?? DEFAULT_CLOSE_TIMEOUT;
    this.closing = new Promise<void>((resolve) => {
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        adapter.onIdle = null;
        adapter.stop();
        // Force-closes what is left: idle keep-alive connections, or (after the timeout) busy ones,
        // whose apps then see http.disconnect.
        uwsApp.close();
        resolve();
      };
      // One turn after the last response, so uWS can flush it before its socket is closed; and not
      // before the grace, so requests already on their way on idle connections are answered.
      const timer = setTimeout(finish, timeout);
      const graceEnds = Date.now() + Math.min(IDLE_GRACE_MS, timeout);
      const whenIdle = (): void => {
        adapter.onIdle = null;
        const left = graceEnds - Date.now();
        if (left <= 0) return void setImmediate(finish);
        setTimeout(() => {
          if (adapter.inFlight === 0) setImmediate(finish);
          else adapter.onIdle = whenIdle;
        }, left);
      };
      if (adapter.inFlight === 0) whenIdle();
      else adapter.onIdle = whenIdle;
    });
    return this.closing;
  }
}

/**
 * uWS reports a failed listen as `false`, without a reason. Binding the same address with node
 * finds the real one (EADDRINUSE, EADDRNOTAVAIL, EACCES) for an error like node's.
 */
async function listenError(host: string, port: number): Promise<Error> {
  const probe = createNetServer();
  return new Promise<Error>((resolve) => {
    probe.once("error", (err) => resolve(err));
    probe.listen({ host, port, exclusive: true }, () => {
      probe.close();
      resolve(new Error(`uWebSockets.js could not listen on ${host}:${port}`));
    });
  });
}

/**
 * uWS's SSLApp reads its key and certificate from files (at construction, into OpenSSL's
 * context). The PEM contents are written to a private temporary directory for that moment and
 * removed right after, so no key stays on disk.
 */
function createSslApp(uws: UwsModule, tls: TlsOptions): TemplatedApp {
  const dir = mkdtempSync(join(tmpdir(), "laminar-tls-"));
  try {
    const key = join(dir, "key.pem");
    const cert = join(dir, "cert.pem");
    writeFileSync(key, tls.key, { mode: 0o600 });
    writeFileSync(cert, tls.cert, { mode: 0o600 });
    return uws.SSLApp({ key_file_name: key, cert_file_name: cert, passphrase: tls.passphrase });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
