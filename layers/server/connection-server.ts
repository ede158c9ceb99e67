/**
 * Layer 1, the connection server: owns sockets and HTTP parsing, and turns each request into a
 * call of an event-interface {@link App}.
 *
 * Contract: `listen(app, options)` starts accepting and resolves with the bound address;
 * `close()` stops accepting, lets in-flight requests finish (bounded by `timeout`), closes idle
 * keep-alive connections, closes open WebSockets with 1001, and resolves when nothing is left.
 * Malformed HTTP never reaches the app: the server answers it (400/408/413/414/431) and closes the
 * socket. A WebSocket upgrade reaches the app as a `websocket` scope (see websocket-events.ts).
 *
 * The built-in servers speak TLS when `listen()` is given `tls` (a key and certificate). The HTTP/2
 * server (http2-server.ts) maps the same limits onto HTTP/2: one app call per stream, a reset stream is
 * that request's disconnect, malformed framing is nghttp2's to refuse (a stream reset or GOAWAY rather
 * than a 400), and a graceful close is a GOAWAY.
 *
 * Deliberately left out: process management (the supervisor), the lifespan protocol (run by `lib/`,
 * not by servers), HTTP/2 server push, and WebSockets over HTTP/2 (RFC 8441).
 *
 * @module
 */
import type { App } from "../adapter/events.js";
import type { Logger } from "../../lib/logger.js";

/** Limits every server enforces. All sizes in bytes, all times in milliseconds. */
export interface ServerLimits {
  /** Maximum size of the request line plus headers; past it: 431. Default 16 KiB. */
  maxHeaderSize: number;
  /** Maximum length of the request target (path + query); past it: 414. Default 8 KiB. */
  maxUrlLength: number;
  /** Maximum request body, counted while streaming; past it: 413 and the connection closed. Default 1 MiB. */
  maxBodySize: number;
  /** Time allowed to receive the complete headers; past it: 408. Default 10 s. */
  headersTimeout: number;
  /** Time allowed to receive the complete request (headers and body); past it: 408. Default 30 s. */
  requestTimeout: number;
  /** How long an idle keep-alive connection stays open. Default 5 s (uvicorn's default). */
  keepAliveTimeout: number;
  /** Largest incoming WebSocket message; past it the connection is closed with 1009. Default 1 MiB. */
  maxMessageSize: number;
  /**
   * A WebSocket peer silent this long is dropped (it is pinged before that, so a live client that
   * answers pings stays). Default 60 s; 0 disables. uWS rounds it to whole seconds, at least 8.
   */
  websocketIdleTimeout: number;
}

/** Defaults for {@link ServerLimits}. */
export const DEFAULT_LIMITS: Readonly<ServerLimits> = Object.freeze({
  maxHeaderSize: 16 * 1024,
  maxUrlLength: 8 * 1024,
  maxBodySize: 1024 * 1024,
  headersTimeout: 10_000,
  requestTimeout: 30_000,
  keepAliveTimeout: 5_000,
  maxMessageSize: 1024 * 1024,
  websocketIdleTimeout: 60_000,
});

/** The limits in force: {@link DEFAULT_LIMITS} with whatever `options` sets (undefined keeps the default). */
export function resolveLimits(options: Partial<ServerLimits>): ServerLimits {
  const limits: ServerLimits = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(DEFAULT_LIMITS) as Array<keyof ServerLimits>) {
    const value = options[key];
    if (value !== undefined) limits[key] = value;
  }
  return limits;
}

/** TLS material, PEM-encoded (the contents, not file names). */
export interface TlsOptions {
  /** The private key. */
  key: string | Buffer;
  /** The certificate chain, leaf first. */
  cert: string | Buffer;
  /** Passphrase of an encrypted key. */
  passphrase?: string;
}

/** What `listen()` takes: where to bind, plus any limit to override. */
export interface ListenOptions extends Partial<ServerLimits> {
  /** Serve HTTPS (and `wss:`) with this key and certificate instead of plain HTTP. */
  tls?: TlsOptions;
  /** Interface to bind. Default `127.0.0.1`. */
  host?: string;
  /** Port to bind; 0 picks a free one. Default 8000. */
  port?: number;
  /** Logger for connection-level problems (malformed requests, app errors after the response started). */
  logger?: Logger;
  /**
   * Lifespan state: each request's `scope.state` is a shallow copy of it (so a request cannot
   * replace what another sees, while shared objects such as a pool stay shared).
   */
  state?: Record<string, unknown>;
  /**
   * Let other processes bind the same port (SO_REUSEPORT; the kernel spreads connections among
   * them): how uWS workers under the supervisor share one port. Default false, so a taken port is
   * an error. node:http and node:http2 ignore it: their workers share the master's socket through
   * node:cluster.
   */
  reusePort?: boolean;
}

/** Where a server ended up listening. */
export interface ListeningAddress {
  host: string;
  port: number;
  /** `http://host:port` (`https://` with TLS), IPv6 hosts bracketed. */
  url: string;
}

/**
 * How long a graceful close leaves idle keep-alive connections open for a request already on its
 * way; see the servers' `close()`.
 */
export const IDLE_GRACE_MS = 1_000;

/** Options of {@link ConnectionServer.close}. */
export interface CloseOptions {
  /** How long in-flight requests may run before their connections are destroyed. Default 10 s. */
  timeout?: number;
}

/** A server that runs any event-interface app. */
export interface ConnectionServer {
  /** Starts accepting connections for `app`. Rejects if the address cannot be bound. */
  listen(app: App, options?: ListenOptions): Promise<ListeningAddress>;
  /** Stops accepting, waits for in-flight requests (bounded by `timeout`), then resolves. */
  close(options?: CloseOptions): Promise<void>;
}
