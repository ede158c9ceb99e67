/**
 * What `laminar serve` runs: the settings the CLI resolves (flags, environment, config file) and
 * the supervisor and its workers act on. One plain object, so it crosses to worker processes as
 * JSON unchanged.
 *
 * @module
 */

/** The settings of one `laminar serve`. Times in seconds, as Gunicorn's settings are. */
export interface ServeConfig {
  /** The app to serve: `path/to/module.js[:export]` (default export `app`), resolved from the working directory. */
  target: string;
  /** Worker processes. 1 runs the app in this process, without a master. */
  workers: number;
  /** Connection server each worker runs (http2: node:http2, workers share the socket like node's). */
  server: "node" | "uws" | "http2";
  host: string;
  port: number;
  /** Heartbeat: a worker whose event loop is blocked this long is killed and replaced. 0 disables. */
  timeout: number;
  /** How long a graceful shutdown waits for in-flight requests before killing what is left. */
  gracefulTimeout: number;
  /** PEM files for TLS; both or neither. */
  keyfile?: string;
  certfile?: string;
  /** Development: restart workers when a source file changes. */
  reload: boolean;
  /** Directories `reload` watches, comma-separated; empty means the working directory. */
  reloadDirs: string;
  /** A worker retires gracefully (and is replaced) after this many requests; 0 disables. */
  maxRequests: number;
  /** Each worker's limit is `maxRequests` plus a random 0..jitter, so workers do not all retire at once. */
  maxRequestsJitter: number;
  /**
   * Peers whose X-Forwarded-For / X-Forwarded-Proto are trusted: comma-separated IPs or CIDR
   * ranges, or `*` for any. Empty trusts nobody.
   */
  forwardedAllowIps: string;
  /** Unix socket the master answers `laminar status` on; empty means `<tmpdir>/laminar-<master pid>.sock`. */
  controlSocket: string;
  /** pino level for the master's and the workers' logs. */
  logLevel: string;
}

/** Defaults, as `laminar serve --help` prints them. */
export const DEFAULT_SERVE_CONFIG: Readonly<Omit<ServeConfig, "target">> = Object.freeze({
  workers: 1,
  server: "node",
  host: "127.0.0.1",
  port: 8000,
  timeout: 30,
  gracefulTimeout: 30,
  reload: false,
  reloadDirs: "",
  maxRequests: 0,
  maxRequestsJitter: 0,
  forwardedAllowIps: "127.0.0.1,::1",
  controlSocket: "",
  logLevel: "info",
});

/** Exit codes a worker uses to tell the master why it stopped at boot (Gunicorn's WORKER_BOOT_ERROR / APP_LOAD_ERROR). */
export const EXIT_APP_LOAD_ERROR = 4;
/** The app loaded but could not start: lifespan startup failed, or the address could not be bound. */
export const EXIT_WORKER_BOOT_ERROR = 3;
