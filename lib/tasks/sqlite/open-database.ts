/**
 * Opening the task queue's SQLite file, shared by {@link SqliteBroker} and {@link SqliteResultBackend}
 * (one file can hold both): WAL so readers never block the writer, `synchronous=NORMAL` (a commit is
 * durable once the WAL is checkpointed; a power cut may lose the last transactions, a process crash
 * loses nothing), a busy timeout so processes queue for the write lock instead of failing at once,
 * and the schema created once, idempotently, under `PRAGMA user_version`.
 *
 * Every SQLite failure that means "this file cannot be used" (locked past the busy timeout, not a
 * database, damaged, cannot be opened) becomes a {@link BrokerUnavailable} naming the file and the
 * cause, so a worker reports it instead of dying on a raw `SQLITE_BUSY` and being restarted in a loop.
 *
 * @module
 */
import { resolve } from "node:path";
import Database from "better-sqlite3";
import { BrokerUnavailable, LaminarError } from "../../errors.js";
import { SCHEMA, SCHEMA_VERSION } from "./schema.js";

/** A better-sqlite3 connection. */
export type SqliteDatabase = Database.Database;

/** Where the file is: a path to open, or a connection the caller opened (and closes). */
export type SqliteSource = { path: string } | { database: SqliteDatabase };

/** Options shared by the SQLite broker and result backend. */
export interface SqliteOpenOptions {
  /**
   * How long (ms) to wait for another process's write lock before giving up with
   * {@link BrokerUnavailable}. Default 5000.
   */
  busyTimeoutMs?: number;
}

/** The default busy timeout (ms). */
export const DEFAULT_BUSY_TIMEOUT_MS = 5_000;

/** An open, configured connection. */
export interface OpenedDatabase {
  db: SqliteDatabase;
  /** The file's name for messages and wake-up keys (absolute path, or `:memory:`). */
  name: string;
  /** True when this module opened it (so its owner closes it). */
  owned: boolean;
  busyTimeoutMs: number;
}

/** Opens (or adopts) the file, configures it and creates the schema. Throws {@link BrokerUnavailable}. */
export function openTaskDatabase(source: SqliteSource, options: SqliteOpenOptions = {}): OpenedDatabase {
  const busyTimeoutMs = Math.max(0, options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS);
  const owned = "path" in source;
  const name = owned ? displayName(source.path) : source.database.name;
  let db: SqliteDatabase | undefined;
  try {
    db = owned ? new Database(source.path, { timeout: busyTimeoutMs }) : source.database;
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    const mode = db.pragma("journal_mode = WAL", { simple: true });
    if (mode !== "wal" && mode !== "memory") {
      throw new BrokerUnavailable(name, `it could not be switched to WAL mode (journal_mode is ${String(mode)})`);
    }
    db.pragma("synchronous = NORMAL");
    migrate(db, name);
    return { db, name, owned, busyTimeoutMs };
  } catch (error) {
    if (owned && db?.open) db.close();
    throw unavailable(error, name, busyTimeoutMs);
  }
}

/** Creates the schema once; a file from a newer laminar is refused rather than misread. */
function migrate(db: SqliteDatabase, name: string): void {
  const check = (): boolean => {
    const version = db.pragma("user_version", { simple: true }) as number;
    if (version === SCHEMA_VERSION) return true;
    if (version > SCHEMA_VERSION) {
      throw new BrokerUnavailable(name, `its schema version ${version} is newer than this laminar's (${SCHEMA_VERSION})`);
    }
    return false;
  };
  if (check()) return;
  // Two processes opening a new file at once: the IMMEDIATE transaction serializes them and the
  // second one finds the version already set.
  db.transaction(() => {
    if (check()) return;
    db.exec(SCHEMA);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

function displayName(path: string): string {
  return path === ":memory:" || path === "" ? ":memory:" : resolve(path);
}

/**
 * Turns what SQLite threw into a {@link BrokerUnavailable} naming `file` and the cause; anything
 * that is not a SQLite failure (a TypeError from a bad argument) is returned unchanged.
 */
export function unavailable(error: unknown, file: string, busyTimeoutMs: number): unknown {
  if (error instanceof LaminarError) return error;
  const reason = describe(error, busyTimeoutMs);
  if (reason === undefined) return error;
  const wrapped = new BrokerUnavailable(file, reason);
  Object.defineProperty(wrapped, "cause", { value: error, enumerable: false, writable: true, configurable: true });
  return wrapped;
}

function describe(error: unknown, busyTimeoutMs: number): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  const raw = typeof code === "string" ? `${code}: ${error.message}` : error.message;
  if (typeof code !== "string" || !code.startsWith("SQLITE_")) {
    // better-sqlite3 reports a missing directory as a plain TypeError before SQLite is involved.
    if (/directory does not exist|unable to open database/i.test(error.message)) return `the file cannot be opened (${error.message})`;
    return undefined;
  }
  if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) {
    return `the file is locked by another connection for longer than the busy timeout (${busyTimeoutMs} ms) (${raw})`;
  }
  if (code === "SQLITE_NOTADB") return `the file is not a SQLite database, or its header is damaged (${raw})`;
  if (code.startsWith("SQLITE_CORRUPT")) return `the database file is damaged (${raw})`;
  if (code.startsWith("SQLITE_CANTOPEN")) return `the file cannot be opened (${raw})`;
  if (code.startsWith("SQLITE_READONLY")) return `the file is read-only (${raw})`;
  if (code === "SQLITE_FULL") return `the disk is full (${raw})`;
  if (code.startsWith("SQLITE_IOERR")) return `an I/O error occurred (${raw})`;
  return raw;
}
