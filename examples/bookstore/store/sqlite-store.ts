/**
 * The SQLite store: one database file, its repositories, and write transactions that take turns
 * on the writer connection (`BEGIN IMMEDIATE` after the write lock).
 *
 * @module
 */
import type BetterSqlite3 from "better-sqlite3";
import { BookstoreStore, type TransactionHandle } from "./contracts.js";
import { SqliteDatabase } from "./sqlite-database.js";
import {
  SqliteAuthorRepository,
  SqliteBookRepository,
  SqliteCoverRepository,
  SqliteSaleRepository,
  SqliteTransaction,
  SqliteUserRepository,
} from "./sqlite-repositories.js";

/** The bookstore on a SQLite file. */
export class SqliteStore extends BookstoreStore {
  readonly kind = "sqlite" as const;
  readonly database: SqliteDatabase;
  readonly authors: SqliteAuthorRepository;
  readonly books: SqliteBookRepository;
  readonly covers: SqliteCoverRepository;
  readonly sales: SqliteSaleRepository;
  readonly users: SqliteUserRepository;

  constructor(readonly file: string) {
    super();
    this.database = new SqliteDatabase(file);
    this.authors = new SqliteAuthorRepository(this.database);
    this.books = new SqliteBookRepository(this.database);
    this.covers = new SqliteCoverRepository(this.database);
    this.sales = new SqliteSaleRepository(this.database);
    this.users = new SqliteUserRepository(this.database);
  }

  get location(): string {
    return this.file;
  }

  override async open(): Promise<void> {
    this.database.open();
  }

  override async close(): Promise<void> {
    this.database.close();
  }

  override async begin(): Promise<TransactionHandle> {
    const unlock = await this.database.lock();
    let writer: BetterSqlite3.Database;
    try {
      writer = this.database.writer;
      // IMMEDIATE: the file's write lock is taken now (waiting up to busy_timeout for another
      // process, a second `laminar serve` worker), not at the first write, where a transaction
      // that already read could only fail with SQLITE_BUSY.
      writer.exec("BEGIN IMMEDIATE");
    } catch (error) {
      unlock();
      throw error;
    }
    let released = false;
    return {
      tx: new SqliteTransaction(writer),
      async commit() {
        writer.exec("COMMIT");
      },
      async rollback() {
        // After a failed COMMIT SQLite may already have rolled back (inTransaction is then false).
        if (writer.inTransaction) writer.exec("ROLLBACK");
      },
      release() {
        if (released) return;
        released = true;
        unlock();
      },
    };
  }
}
