/**
 * The count in a SQLite file every worker opens (better-sqlite3 12.x; 13 crashes on Node 20).
 *
 * - WAL journal: readers do not block the writer, and the writer does not block readers.
 * - `busy_timeout`: SQLite allows one writer at a time across processes; a worker that finds the
 *   file locked by another waits up to this long instead of failing at once with SQLITE_BUSY.
 * - One statement per visit (`INSERT … ON CONFLICT DO UPDATE … RETURNING`): the increment and
 *   the read of the new value are one atomic write, so two workers never both see, say, 41 and
 *   both write 42 (the lost update a `SELECT` then `UPDATE` would allow).
 *
 * better-sqlite3 is synchronous: the statement holds this worker's event loop for its few
 * microseconds, which is fine for a small write; a slow query would block every request of the
 * worker (see `npm run bench:workers`, blocking scenario).
 *
 * @module
 */
import BetterSqlite3 from "better-sqlite3";
import type { VisitCounter } from "./counter.js";

/** Milliseconds a write waits for another process's lock before SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5_000;

/** The counter in one row of a SQLite table. */
export class SqliteCounter implements VisitCounter {
  readonly name = "sqlite" as const;
  private db: BetterSqlite3.Database | undefined;
  private incrementStatement: BetterSqlite3.Statement<[], { count: number }> | undefined;
  private readStatement: BetterSqlite3.Statement<[], { count: number }> | undefined;

  /** @param file the database file, shared by every worker */
  constructor(private readonly file: string) {}

  async open(): Promise<void> {
    const db = new BetterSqlite3(this.file);
    // busy_timeout first: the pragmas and the CREATE below may meet another worker starting up.
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma("journal_mode = WAL");
    db.exec("CREATE TABLE IF NOT EXISTS visits (id INTEGER PRIMARY KEY CHECK (id = 1), count INTEGER NOT NULL)");
    this.incrementStatement = db.prepare("INSERT INTO visits (id, count) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET count = count + 1 RETURNING count");
    this.readStatement = db.prepare("SELECT count FROM visits WHERE id = 1");
    this.db = db;
  }

  async increment(): Promise<number> {
    if (this.incrementStatement === undefined) throw new Error("the SQLite counter is not open (the lifespan startup opens it)");
    return this.incrementStatement.get()!.count;
  }

  async read(): Promise<number> {
    if (this.readStatement === undefined) throw new Error("the SQLite counter is not open (the lifespan startup opens it)");
    return this.readStatement.get()?.count ?? 0;
  }

  async close(): Promise<void> {
    this.db?.close();
    this.db = undefined;
    this.incrementStatement = undefined;
    this.readStatement = undefined;
  }
}
