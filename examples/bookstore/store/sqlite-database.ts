/**
 * The bookstore's SQLite database (better-sqlite3 12.x; 13 crashes on Node 20).
 *
 * Two connections on one WAL file: a reader for queries, which only ever sees committed data, and
 * a writer for transactions. better-sqlite3 is synchronous but a request's transaction spans
 * awaits (dependency resolution, the handler, the commit), during which other requests run; so
 * write transactions take turns through an async lock instead of nesting `BEGIN`s on the shared
 * writer, and readers never see another request's uncommitted rows.
 *
 * @module
 */
import BetterSqlite3 from "better-sqlite3";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS authors (
  id   INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS books (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  title      TEXT NOT NULL,
  author_id  INTEGER NOT NULL REFERENCES authors(id),
  price      REAL NOT NULL,
  tags       TEXT NOT NULL DEFAULT '[]',
  created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS books_author ON books(author_id);
CREATE TABLE IF NOT EXISTS covers (
  book_id    INTEGER PRIMARY KEY REFERENCES books(id) ON DELETE CASCADE,
  file       TEXT NOT NULL,
  media_type TEXT NOT NULL,
  size       INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sales (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  book_id    INTEGER NOT NULL REFERENCES books(id) ON DELETE CASCADE,
  quantity   INTEGER NOT NULL,
  unit_price REAL NOT NULL,
  sold_at    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sales_book ON sales(book_id);
CREATE TABLE IF NOT EXISTS users (
  username      TEXT PRIMARY KEY,
  password_hash TEXT NOT NULL,
  scopes        TEXT NOT NULL DEFAULT '[]'
);
`;

/**
 * The database file: a reader, a writer, and the lock that serializes write transactions.
 * Created with the app, opened by the lifespan startup, closed by the lifespan shutdown.
 */
export class SqliteDatabase {
  #reader: BetterSqlite3.Database | undefined;
  #writer: BetterSqlite3.Database | undefined;
  private tail: Promise<void> = Promise.resolve();

  constructor(readonly file: string) {}

  /** Opens both connections and creates the schema; throws with the file's name when it cannot. */
  open(): void {
    if (this.#writer !== undefined) return;
    let writer: BetterSqlite3.Database | undefined;
    try {
      if (this.file !== ":memory:") mkdirSync(dirname(this.file), { recursive: true });
      writer = new BetterSqlite3(this.file);
      writer.pragma("journal_mode = WAL");
      writer.pragma("foreign_keys = ON");
      writer.pragma("busy_timeout = 5000");
      writer.exec(SCHEMA);
      this.#reader = new BetterSqlite3(this.file, { readonly: true });
    } catch (error) {
      writer?.close();
      throw new Error(`cannot open the bookstore's SQLite database ${this.file}: ${(error as Error).message}`, { cause: error });
    }
    this.#writer = writer;
  }

  /** The read-only connection; throws before the lifespan opened the database. */
  get reader(): BetterSqlite3.Database {
    if (this.#reader === undefined) throw new Error("the bookstore database is not open (the lifespan startup opens it)");
    return this.#reader;
  }

  /** The connection transactions write through; throws before the lifespan opened the database. */
  get writer(): BetterSqlite3.Database {
    if (this.#writer === undefined) throw new Error("the bookstore database is not open (the lifespan startup opens it)");
    return this.#writer;
  }

  /** Waits for the write lock; resolves with the function that releases it. */
  lock(): Promise<() => void> {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const acquired = this.tail.then(() => release);
    this.tail = this.tail.then(() => released);
    return acquired;
  }

  /**
   * Statements prepared once per opening: `build` runs at the first use after each open, so
   * repositories can be created with the app, before the lifespan opens the file.
   */
  statements<T>(build: (reader: BetterSqlite3.Database, writer: BetterSqlite3.Database) => T): () => T {
    let preparedOn: BetterSqlite3.Database | undefined;
    let prepared: T | undefined;
    return () => {
      const writer = this.writer;
      if (preparedOn !== writer || prepared === undefined) {
        prepared = build(this.reader, writer);
        preparedOn = writer;
      }
      return prepared;
    };
  }

  /** Closes both connections (idempotent). */
  close(): void {
    this.#reader?.close();
    this.#writer?.close();
    this.#reader = this.#writer = undefined;
  }
}
