/**
 * Brokers and result backends by URL, as Celery's `broker_url` / `result_backend`:
 *
 * - `memory://` (or `memory://<name>`): the in-process broker/backend. Every connect with the same URL
 *   in one process gets the same store (kombu's memory transport does the same), so a publisher and a
 *   worker in one process meet there; it is closed when the last connection to it closes.
 * - `sqlite:///abs/path.db` (three slashes: an absolute path) or `sqlite://relative.db` (relative to the
 *   working directory): the embedded SQLite broker/backend; both can use the same file.
 * - `redis://[:password@]host[:port][/db]` (and `rediss://` for TLS): the Redis broker in kombu's
 *   transport format and the Celery-compatible Redis result backend, as Celery's `broker_url` /
 *   `result_backend` with the same URL.
 *
 * Each scheme is one entry of a table; the next issue adds `redis://` and `amqp://` there
 * ({@link registerBrokerScheme}, {@link registerBackendScheme}), and an unknown scheme's error lists
 * the known ones.
 *
 * @module
 */
import { BrokerUnavailable } from "../errors.js";
import type { Broker } from "./broker.js";
import { MemoryResultBackend } from "./memory/memory-backend.js";
import { MemoryBroker } from "./memory/memory-broker.js";
import { AmqpBroker } from "./amqp/amqp-broker.js";
import { RedisResultBackend } from "./redis/redis-backend.js";
import { RedisBroker } from "./redis/redis-broker.js";
import type { ResultBackend } from "./result-backend.js";
import { SqliteResultBackend } from "./sqlite/sqlite-backend.js";
import { SqliteBroker } from "./sqlite/sqlite-broker.js";

/** Options a connection may use; each scheme takes what applies to it. */
export interface ConnectOptions {
  /** SQLite: how long (ms) to wait for another process's write lock (default 5000). */
  busyTimeoutMs?: number;
}

/** Opens a broker for a URL of its scheme. */
export type BrokerFactory = (url: string, options: ConnectOptions) => Broker;
/** Opens a result backend for a URL of its scheme. */
export type BackendFactory = (url: string, options: ConnectOptions) => ResultBackend;

const brokerSchemes = new Map<string, BrokerFactory>();
const backendSchemes = new Map<string, BackendFactory>();

/**
 * Adds (or replaces) the broker for `scheme` (without `://`, e.g. `"redis"`).
 *
 * @example
 * registerBrokerScheme("redis", (url) => new RedisBroker({ url }));
 */
export function registerBrokerScheme(scheme: string, factory: BrokerFactory): void {
  brokerSchemes.set(scheme.toLowerCase(), factory);
}

/** Adds (or replaces) the result backend for `scheme` (without `://`). */
export function registerBackendScheme(scheme: string, factory: BackendFactory): void {
  backendSchemes.set(scheme.toLowerCase(), factory);
}

/**
 * Opens the broker a URL names. Throws {@link BrokerUnavailable} for an unknown scheme (the message
 * lists the known ones) or a file that cannot be used.
 *
 * @example
 * const broker = connectBroker("sqlite:///var/lib/app/tasks.db");
 */
export function connectBroker(url: string, options: ConnectOptions = {}): Broker {
  return pick(brokerSchemes, url, "broker")(url, options);
}

/**
 * Opens the result backend a URL names (same URLs as {@link connectBroker}).
 *
 * @example
 * const backend = connectBackend("sqlite://tasks.db");
 */
export function connectBackend(url: string, options: ConnectOptions = {}): ResultBackend {
  return pick(backendSchemes, url, "result backend")(url, options);
}

function pick<F>(schemes: Map<string, F>, url: string, what: string): F {
  const match = typeof url === "string" ? /^([a-z][a-z0-9+.-]*):\/\//i.exec(url) : null;
  const known = [...schemes.keys()].map((s) => `${s}://`).join(", ");
  if (!match) throw new BrokerUnavailable(redact(String(url)), `a ${what} URL looks like scheme://…; known schemes: ${known}`);
  const factory = schemes.get(match[1]!.toLowerCase());
  if (!factory) throw new BrokerUnavailable(redact(url), `no ${what} for the scheme ${match[1]}://; known schemes: ${known}`);
  return factory;
}

/** Hides a password in a URL (`redis://:secret@host` → `redis://:***@host`) before it goes into an error. */
export function redact(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*):[^/@]*@/i, "$1:***@");
}

/** The file path of a `sqlite://` URL: `sqlite:///abs.db` is absolute, `sqlite://rel.db` relative. */
export function sqlitePath(url: string): string {
  let rest = url.slice(url.indexOf("://") + 3);
  const query = rest.search(/[?#]/);
  if (query >= 0) rest = rest.slice(0, query);
  if (rest === "") throw new BrokerUnavailable(url, "a sqlite URL needs a file: sqlite:///abs/path.db or sqlite://relative.db");
  try {
    return decodeURIComponent(rest);
  } catch {
    return rest;
  }
}

// --- memory:// -------------------------------------------------------------------------------

interface Shared<T> {
  instance: T;
  refs: number;
}

const sharedBrokers = new Map<string, Shared<MemoryBroker>>();
const sharedBackends = new Map<string, Shared<MemoryResultBackend>>();

/**
 * A connection to a shared instance: every method is the instance's, except `close`, which closes
 * the instance only when it is the last connection to it.
 */
function connection<T extends { close(): Promise<void> }>(registry: Map<string, Shared<T>>, key: string, create: () => T): T {
  let shared = registry.get(key);
  if (!shared) registry.set(key, (shared = { instance: create(), refs: 0 }));
  shared.refs++;
  const entry = shared;
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    if (--entry.refs > 0) return;
    if (registry.get(key) === entry) registry.delete(key);
    await entry.instance.close();
  };
  return new Proxy(entry.instance, {
    get(target, property) {
      if (property === "close") return close;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

registerBrokerScheme("memory", (url) => connection(sharedBrokers, url, () => new MemoryBroker()));
registerBackendScheme("memory", (url) => connection(sharedBackends, url, () => new MemoryResultBackend()));

// --- sqlite:// -------------------------------------------------------------------------------

registerBrokerScheme("sqlite", (url, options) => new SqliteBroker({ path: sqlitePath(url), busyTimeoutMs: options.busyTimeoutMs }));
registerBackendScheme("sqlite", (url, options) => new SqliteResultBackend({ path: sqlitePath(url), busyTimeoutMs: options.busyTimeoutMs }));

// --- redis:// ---------------------------------------------------------------------------------

/**
 * laminar's options in a redis:// URL's query: `global_keyprefix` (kombu's transport option of that
 * name) and `eta_on_queue=true` (see `RedisBrokerOptions.etaOnQueue`). ioredis reads host, port,
 * password and db from the URL itself; the connection opens in the background.
 */
export function redisUrlOptions(url: string): { prefix?: string; etaOnQueue?: boolean } {
  const query = url.indexOf("?");
  if (query < 0) return {};
  const params = new URLSearchParams(url.slice(query + 1).split("#")[0]);
  const out: { prefix?: string; etaOnQueue?: boolean } = {};
  const prefix = params.get("global_keyprefix");
  if (prefix !== null) out.prefix = prefix;
  const eta = params.get("eta_on_queue");
  if (eta !== null) out.etaOnQueue = eta === "true" || eta === "1";
  return out;
}

for (const scheme of ["redis", "rediss"]) {
  registerBrokerScheme(scheme, (url) => new RedisBroker({ url, ...redisUrlOptions(url) }));
  registerBackendScheme(scheme, (url) => new RedisResultBackend({ url, prefix: redisUrlOptions(url).prefix }));
}

// --- amqp:// (RabbitMQ) -------------------------------------------------------------------
// A broker only: RabbitMQ keeps no results, so pair it with a redis:// (or sqlite://) backend, as
// Celery users pair `amqp://` with a Redis result backend. The broker connects on first use.
for (const scheme of ["amqp", "amqps"]) registerBrokerScheme(scheme, (url) => new AmqpBroker({ url }));
