/**
 * The settings of `laminar serve`, listed once: the flag parser, the environment and config-file
 * readers and `--help` are all generated from this table, so a setting cannot exist in one and be
 * missing from another.
 *
 * @module
 */
import type { ServeConfig } from "../supervisor/serve-config.js";

/** A setting of {@link ServeConfig} other than the app target. */
export type SettingKey = Exclude<keyof ServeConfig, "target">;

/** How a setting's text is turned into its value. */
export type SettingKind = "integer" | "number" | "string" | "boolean" | "choice";

/** One setting: where it can be given, how it is checked, and what `--help` says about it. */
export interface SettingSpec {
  /** Key in {@link ServeConfig} and in the JSON config file. */
  key: SettingKey;
  /** Long flag without the dashes. */
  flag: string;
  /** One-letter alias, if any. */
  short?: string;
  /** Environment variable. */
  env: string;
  kind: SettingKind;
  /** Allowed values of a `choice`. */
  choices?: readonly string[];
  /** A `string` that may be empty (an empty value then means "none"); others must be non-empty. */
  allowEmpty?: boolean;
  /** Inclusive bounds of a number. */
  min?: number;
  max?: number;
  /** Placeholder for the value in `--help` (`INT`, `HOST`). */
  valueName?: string;
  /** One or two lines for `--help`. */
  help: readonly string[];
}

/** pino's level names, which `--log-level` accepts. */
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** Every setting of `laminar serve`, in the order `--help` lists them. */
export const SERVE_SETTINGS: readonly SettingSpec[] = [
  {
    key: "workers",
    flag: "workers",
    short: "w",
    env: "LAMINAR_WORKERS",
    kind: "integer",
    min: 1,
    valueName: "INT",
    help: [
      "Worker processes, each running the app on its own event loop (one core each).",
      "1 runs the app in this process, with no master; more starts the supervisor.",
    ],
  },
  {
    key: "server",
    flag: "server",
    env: "LAMINAR_SERVER",
    kind: "choice",
    choices: ["node", "uws", "http2"],
    valueName: "NAME",
    help: [
      "Connection server: node (node:http), uws (uWebSockets.js, an optional dependency) or http2",
      "(node:http2: with --certfile/--keyfile h2 over TLS, HTTP/1.1 for clients without h2; without, h2c).",
      "Overrides the server the app was constructed with, unless it set createServer.",
    ],
  },
  {
    key: "host",
    flag: "host",
    env: "LAMINAR_HOST",
    kind: "string",
    valueName: "HOST",
    help: ["Interface to bind: 127.0.0.1 for this machine only, 0.0.0.0 (or ::) for every interface."],
  },
  {
    key: "port",
    flag: "port",
    short: "p",
    env: "LAMINAR_PORT",
    kind: "integer",
    min: 0,
    max: 65535,
    valueName: "INT",
    help: ["Port to bind; 0 picks a free one (the listening URL is printed on stdout)."],
  },
  {
    key: "timeout",
    flag: "timeout",
    short: "t",
    env: "LAMINAR_TIMEOUT",
    kind: "number",
    min: 0,
    valueName: "SECONDS",
    help: [
      "Heartbeat: a worker whose event loop has been blocked this long is killed and replaced; 0 disables.",
      "An event-loop liveness check, NOT a per-request time limit: a request that awaits I/O for",
      "minutes never trips it, a synchronous loop that holds the thread does. Needs the master (--workers > 1).",
    ],
  },
  {
    key: "gracefulTimeout",
    flag: "graceful-timeout",
    env: "LAMINAR_GRACEFUL_TIMEOUT",
    kind: "number",
    min: 0,
    valueName: "SECONDS",
    help: [
      "On SIGTERM/SIGINT, how long in-flight requests may run to completion before their",
      "connections are destroyed. The lifespan shutdown runs after that.",
    ],
  },
  {
    key: "keyfile",
    flag: "keyfile",
    env: "LAMINAR_KEYFILE",
    kind: "string",
    valueName: "FILE",
    help: ["PEM private key: serve HTTPS (and wss:). Needs --certfile."],
  },
  {
    key: "certfile",
    flag: "certfile",
    env: "LAMINAR_CERTFILE",
    kind: "string",
    valueName: "FILE",
    help: ["PEM certificate chain, leaf first. Needs --keyfile."],
  },
  {
    key: "maxRequests",
    flag: "max-requests",
    env: "LAMINAR_MAX_REQUESTS",
    kind: "integer",
    min: 0,
    valueName: "INT",
    help: [
      "A worker retires gracefully after serving this many requests (a WebSocket connection counts as one)",
      "and a fresh one takes its place first, so an app that leaks memory stays bounded. 0 disables.",
      "Starts the master even with --workers 1.",
    ],
  },
  {
    key: "maxRequestsJitter",
    flag: "max-requests-jitter",
    env: "LAMINAR_MAX_REQUESTS_JITTER",
    kind: "integer",
    min: 0,
    valueName: "INT",
    help: ["Adds a random 0..INT to each worker's --max-requests, so the workers do not all retire at once."],
  },
  {
    key: "forwardedAllowIps",
    flag: "forwarded-allow-ips",
    env: "LAMINAR_FORWARDED_ALLOW_IPS",
    kind: "string",
    valueName: "IPS",
    allowEmpty: true,
    help: [
      "Proxies trusted to set X-Forwarded-For and X-Forwarded-Proto: comma-separated IPs or CIDR ranges,",
      "or * for any peer. From those peers the scope's client address and scheme are the forwarded ones;",
      "from any other peer the headers are ignored. Empty trusts nobody.",
    ],
  },
  {
    key: "reload",
    flag: "reload",
    env: "LAMINAR_RELOAD",
    kind: "boolean",
    help: [
      "Development: restart the workers when a .js/.mjs/.cjs/.ts/.json file under --reload-dir changes",
      "(node_modules and dotfiles ignored). Runs the master even with --workers 1.",
      "Environment values: 1/true/yes or 0/false/no.",
    ],
  },
  {
    key: "reloadDirs",
    flag: "reload-dir",
    env: "LAMINAR_RELOAD_DIRS",
    kind: "string",
    valueName: "DIRS",
    allowEmpty: true,
    help: ["Directories --reload watches, comma-separated. Default: the working directory."],
  },
  {
    key: "controlSocket",
    flag: "control-socket",
    env: "LAMINAR_CONTROL_SOCKET",
    kind: "string",
    valueName: "PATH",
    allowEmpty: true,
    help: [
      "Unix socket on which the master answers `laminar status`.",
      "Default: <tmpdir>/laminar-<master pid>.sock, removed when the master exits.",
    ],
  },
  {
    key: "logLevel",
    flag: "log-level",
    env: "LAMINAR_LOG_LEVEL",
    kind: "choice",
    choices: LOG_LEVELS,
    valueName: "LEVEL",
    help: [
      "pino level of laminar's logs; sets LOG_LEVEL for the app's default logger",
      "(an app constructed with its own logger keeps it).",
    ],
  },
];

/** Environment variable naming the app, when no positional argument is given. */
export const APP_ENV = "LAMINAR_APP";
/** Environment variable naming the config file, when `--config` is not given. */
export const CONFIG_ENV = "LAMINAR_CONFIG";
