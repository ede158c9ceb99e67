/**
 * Which database the bookstore uses, from `DATABASE_URL` (the name Heroku, Render, Django's
 * dj-database-url and most hosts use), and the store for it.
 *
 * - unset or empty: SQLite, in `BOOKSTORE_DB` or `examples/bookstore/bookstore.db`;
 * - `sqlite:///abs/path.db`, `sqlite://relative.db` or `sqlite:relative.db`: SQLite in that file;
 * - `postgres://…` or `postgresql://…`: PostgreSQL, through a pool of `DATABASE_POOL_SIZE`
 *   connections (default 10) per process; a request waits at most `DATABASE_POOL_TIMEOUT_MS`
 *   (default 5000) for a free one, then answers 503.
 *
 * @module
 */
import type { Logger } from "../../../lib/logger.js";
import { sqlitePath } from "../../../lib/tasks/connect.js";
import type { BookstoreStore } from "./contracts.js";
import { PostgresStore } from "./postgres-store.js";
import { SqliteStore } from "./sqlite-store.js";

/** Where the bookstore's rows live. */
export type StoreLocation =
  | { kind: "sqlite"; file: string }
  | { kind: "postgres"; url: string; poolSize: number; poolTimeoutMs: number };

/** pg's own default pool size. */
export const DEFAULT_POOL_SIZE = 10;
/** How long a request waits for a pooled connection by default: long enough for a burst, short of a client's patience. */
export const DEFAULT_POOL_TIMEOUT_MS = 5000;

/** What {@link resolveStoreLocation} reads besides the environment. */
export interface StoreLocationOptions {
  /** A `DATABASE_URL`; wins over everything else. */
  databaseUrl?: string;
  /** A SQLite file, used when no `databaseUrl` option is given (tests pass one: `DATABASE_URL` then does not apply). */
  databaseFile?: string;
  /** Pool size; default `DATABASE_POOL_SIZE`, else 10. */
  poolSize?: number;
  /** Pool wait in ms; default `DATABASE_POOL_TIMEOUT_MS`, else 5000. */
  poolTimeoutMs?: number;
  /** The SQLite file when nothing else names one. */
  defaultFile: string;
}

function positiveInteger(name: string, value: number | string | undefined, fallback: number): number {
  if (value === undefined || value === "") return fallback;
  const number = typeof value === "number" ? value : Number(value);
  if (!Number.isInteger(number) || number < 1) throw new TypeError(`${name} must be a positive integer, got ${JSON.stringify(value)}`);
  return number;
}

/** Parses a database URL; throws a TypeError naming the accepted forms for anything else. */
export function parseDatabaseUrl(url: string, pool: () => { poolSize: number; poolTimeoutMs: number }): StoreLocation {
  if (/^postgres(ql)?:\/\//i.test(url)) return { kind: "postgres", url, ...pool() };
  if (/^sqlite:\/\//i.test(url)) return { kind: "sqlite", file: sqlitePath(url) };
  if (/^sqlite:[^/]/i.test(url)) return { kind: "sqlite", file: url.slice("sqlite:".length) };
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1] ?? url.slice(0, 20);
  throw new TypeError(`DATABASE_URL must be postgres://…, postgresql://… or sqlite://…, got "${scheme}…"`);
}

/**
 * The store location: the `databaseUrl` option, else SQLite in the `databaseFile` option, else
 * `DATABASE_URL`, else SQLite in `BOOKSTORE_DB` or the default file.
 */
export function resolveStoreLocation(options: StoreLocationOptions, env: NodeJS.ProcessEnv = process.env): StoreLocation {
  // Read only for PostgreSQL: a stray pool setting does not stop a SQLite bookstore.
  const pool = () => ({
    poolSize: positiveInteger("DATABASE_POOL_SIZE", options.poolSize ?? env.DATABASE_POOL_SIZE, DEFAULT_POOL_SIZE),
    poolTimeoutMs: positiveInteger("DATABASE_POOL_TIMEOUT_MS", options.poolTimeoutMs ?? env.DATABASE_POOL_TIMEOUT_MS, DEFAULT_POOL_TIMEOUT_MS),
  });
  if (options.databaseUrl !== undefined) return parseDatabaseUrl(options.databaseUrl, pool);
  if (options.databaseFile !== undefined) return { kind: "sqlite", file: options.databaseFile };
  if (env.DATABASE_URL !== undefined && env.DATABASE_URL !== "") return parseDatabaseUrl(env.DATABASE_URL, pool);
  return { kind: "sqlite", file: env.BOOKSTORE_DB ?? options.defaultFile };
}

/** The store for a location (opening nothing: the lifespan startup opens it). */
export function createStore(location: StoreLocation, logger: Logger): BookstoreStore {
  return location.kind === "sqlite" ? new SqliteStore(location.file) : new PostgresStore({ ...location, logger });
}
