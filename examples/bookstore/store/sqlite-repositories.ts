/**
 * The repositories on SQLite. Reads use the reader connection (committed rows only); writes, and
 * the reads that take a transaction, use the writer, the connection every {@link SqliteTransaction}
 * holds. Write transactions take turns (the write lock), so a read inside one needs no row lock.
 *
 * @module
 */
import type BetterSqlite3 from "better-sqlite3";
import type { Author, Book, BookCreate, BookQuery } from "../schemas.js";
import {
  AuthorRepository,
  BookRepository,
  CoverRepository,
  SaleRepository,
  Transaction,
  UserRepository,
  type StoredCover,
  type StoredSale,
  type StoredUser,
} from "./contracts.js";
import type { SqliteDatabase } from "./sqlite-database.js";

/** A transaction on the SQLite writer. */
export class SqliteTransaction extends Transaction {
  readonly kind = "sqlite" as const;
  constructor(readonly connection: BetterSqlite3.Database) {
    super();
  }
}

/** Refuses a transaction of another store (a programming error: two stores in one app). */
function check(tx: Transaction): void {
  if (!(tx instanceof SqliteTransaction)) throw new TypeError(`a ${tx.kind} transaction was passed to the SQLite store`);
}

interface BookRow {
  id: number;
  title: string;
  author_id: number;
  price: number;
  tags: string;
  created_at: string;
}

const toBook = (row: BookRow): Book => ({
  id: row.id,
  title: row.title,
  authorId: row.author_id,
  price: row.price,
  tags: JSON.parse(row.tags) as string[],
  createdAt: row.created_at,
});

/** Authors on SQLite. */
export class SqliteAuthorRepository extends AuthorRepository {
  private readonly sql;

  constructor(db: SqliteDatabase) {
    super();
    this.sql = db.statements((_reader, writer) => ({
      insert: writer.prepare<[string]>("INSERT INTO authors (name) VALUES (?)"),
      byId: writer.prepare<[number]>("SELECT 1 FROM authors WHERE id = ?"),
    }));
  }

  override async create(tx: Transaction, name: string): Promise<Author> {
    check(tx);
    const result = this.sql().insert.run(name);
    return { id: Number(result.lastInsertRowid), name };
  }

  override async exists(tx: Transaction, id: number): Promise<boolean> {
    check(tx);
    return this.sql().byId.get(id) !== undefined;
  }
}

/** Books on SQLite: tags as a JSON array in a TEXT column, prices as REAL. */
export class SqliteBookRepository extends BookRepository {
  private readonly sql;

  constructor(db: SqliteDatabase) {
    super();
    this.sql = db.statements((reader, writer) => ({
      byId: reader.prepare<[number], BookRow>("SELECT * FROM books WHERE id = ?"),
      page: reader.prepare<[number, number], BookRow>("SELECT * FROM books ORDER BY id LIMIT ? OFFSET ?"),
      pageByTag: reader.prepare<[string, number, number], BookRow>(
        "SELECT * FROM books WHERE EXISTS (SELECT 1 FROM json_each(books.tags) WHERE value = ?) ORDER BY id LIMIT ? OFFSET ?",
      ),
      existsInTx: writer.prepare<[number]>("SELECT 1 FROM books WHERE id = ?"),
      insert: writer.prepare<[string, number, number, string, string]>(
        "INSERT INTO books (title, author_id, price, tags, created_at) VALUES (?, ?, ?, ?, ?)",
      ),
      remove: writer.prepare<[number]>("DELETE FROM books WHERE id = ?"),
    }));
  }

  override async list(query: BookQuery): Promise<Book[]> {
    const { page, pageByTag } = this.sql();
    const rows = query.tag === undefined ? page.all(query.limit, query.offset) : pageByTag.all(query.tag, query.limit, query.offset);
    return rows.map(toBook);
  }

  override async get(id: number): Promise<Book | undefined> {
    const row = this.sql().byId.get(id);
    return row === undefined ? undefined : toBook(row);
  }

  override async create(tx: Transaction, input: BookCreate): Promise<Book> {
    check(tx);
    const createdAt = new Date().toISOString();
    const tags = input.tags ?? [];
    const result = this.sql().insert.run(input.title, input.authorId, input.price, JSON.stringify(tags), createdAt);
    return { id: Number(result.lastInsertRowid), title: input.title, authorId: input.authorId, price: input.price, tags, createdAt };
  }

  override async exists(tx: Transaction, id: number): Promise<boolean> {
    check(tx);
    return this.sql().existsInTx.get(id) !== undefined;
  }

  override async delete(tx: Transaction, id: number): Promise<boolean> {
    check(tx);
    return this.sql().remove.run(id).changes > 0;
  }
}

interface CoverRow {
  book_id: number;
  file: string;
  media_type: string;
  size: number;
}

const toCover = (row: CoverRow): StoredCover => ({ bookId: row.book_id, file: row.file, mediaType: row.media_type, size: row.size });

/** Covers on SQLite. */
export class SqliteCoverRepository extends CoverRepository {
  private readonly sql;

  constructor(db: SqliteDatabase) {
    super();
    this.sql = db.statements((reader, writer) => ({
      byBook: reader.prepare<[number], CoverRow>("SELECT * FROM covers WHERE book_id = ?"),
      byBookInTx: writer.prepare<[number], CoverRow>("SELECT * FROM covers WHERE book_id = ?"),
      upsert: writer.prepare<[number, string, string, number]>(
        "INSERT INTO covers (book_id, file, media_type, size) VALUES (?, ?, ?, ?) " +
          "ON CONFLICT (book_id) DO UPDATE SET file = excluded.file, media_type = excluded.media_type, size = excluded.size",
      ),
      remove: writer.prepare<[number]>("DELETE FROM covers WHERE book_id = ?"),
    }));
  }

  override async get(bookId: number): Promise<StoredCover | undefined> {
    const row = this.sql().byBook.get(bookId);
    return row === undefined ? undefined : toCover(row);
  }

  override async find(tx: Transaction, bookId: number): Promise<StoredCover | undefined> {
    check(tx);
    const row = this.sql().byBookInTx.get(bookId);
    return row === undefined ? undefined : toCover(row);
  }

  override async put(tx: Transaction, cover: StoredCover): Promise<void> {
    check(tx);
    this.sql().upsert.run(cover.bookId, cover.file, cover.mediaType, cover.size);
  }

  override async delete(tx: Transaction, bookId: number): Promise<boolean> {
    check(tx);
    return this.sql().remove.run(bookId).changes > 0;
  }
}

/** Sales on SQLite. */
export class SqliteSaleRepository extends SaleRepository {
  private readonly sql;

  constructor(db: SqliteDatabase) {
    super();
    this.sql = db.statements((_reader, writer) => ({
      insert: writer.prepare<[number, number, number, string]>("INSERT INTO sales (book_id, quantity, unit_price, sold_at) VALUES (?, ?, ?, ?)"),
      priceOf: writer.prepare<[number], { price: number }>("SELECT price FROM books WHERE id = ?"),
    }));
  }

  override async record(tx: Transaction, bookId: number, quantity: number): Promise<StoredSale | undefined> {
    check(tx);
    const book = this.sql().priceOf.get(bookId);
    if (book === undefined) return undefined;
    const soldAt = new Date().toISOString();
    const result = this.sql().insert.run(bookId, quantity, book.price, soldAt);
    return { id: Number(result.lastInsertRowid), bookId, quantity, unitPrice: book.price, soldAt };
  }
}

interface UserRow {
  username: string;
  password_hash: string;
  scopes: string;
}

/** Users on SQLite: scopes as a JSON array in a TEXT column. */
export class SqliteUserRepository extends UserRepository {
  private readonly sql;

  constructor(db: SqliteDatabase) {
    super();
    this.sql = db.statements((reader, writer) => ({
      byName: reader.prepare<[string], UserRow>("SELECT username, password_hash, scopes FROM users WHERE username = ?"),
      upsert: writer.prepare<[string, string, string]>(
        "INSERT INTO users (username, password_hash, scopes) VALUES (?, ?, ?) " +
          "ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash, scopes = excluded.scopes",
      ),
    }));
  }

  override async find(username: string): Promise<StoredUser | undefined> {
    const row = this.sql().byName.get(username);
    return row === undefined ? undefined : { username: row.username, passwordHash: row.password_hash, scopes: JSON.parse(row.scopes) as string[] };
  }

  override async save(tx: Transaction, user: StoredUser): Promise<void> {
    check(tx);
    this.sql().upsert.run(user.username, user.passwordHash, JSON.stringify(user.scopes));
  }
}
