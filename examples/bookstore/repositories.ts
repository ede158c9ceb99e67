/**
 * Repositories: the bookstore's data access, as DI services. Reads use the reader connection;
 * writes take a {@link Transaction}, so they can only happen inside the transaction dependency.
 *
 * @module
 */
import type BetterSqlite3 from "better-sqlite3";
import { inject, injectable } from "../../layers/di/decorators.js";
import { BookstoreDatabase, Transaction } from "./database.js";
import type { Author, Book, BookCreate, BookQuery } from "./schemas.js";

interface BookRow {
  id: number;
  title: string;
  author_id: number;
  price: number;
  tags: string;
  created_at: string;
}

function toBook(row: BookRow): Book {
  return {
    id: row.id,
    title: row.title,
    authorId: row.author_id,
    price: row.price,
    tags: JSON.parse(row.tags) as string[],
    createdAt: row.created_at,
  };
}

/**
 * Authors. Write statements are prepared once on the writer connection, the only one a
 * {@link Transaction} can hold; the `tx` parameter is the proof that one is open.
 */
@injectable()
export class AuthorRepository {
  private readonly insert: BetterSqlite3.Statement<[string]>;
  private readonly byId: BetterSqlite3.Statement<[number]>;

  constructor(@inject(BookstoreDatabase) db: BookstoreDatabase) {
    this.insert = db.writer.prepare("INSERT INTO authors (name) VALUES (?)");
    this.byId = db.writer.prepare("SELECT 1 FROM authors WHERE id = ?");
  }

  create(_tx: Transaction, name: string): Author {
    const result = this.insert.run(name);
    return { id: Number(result.lastInsertRowid), name };
  }

  /** Looks inside the transaction, so an author created earlier in it counts. */
  exists(_tx: Transaction, id: number): boolean {
    return this.byId.get(id) !== undefined;
  }
}

/** Books. */
@injectable()
export class BookRepository {
  private readonly byId: BetterSqlite3.Statement<[number], BookRow>;
  private readonly page: BetterSqlite3.Statement<[number, number], BookRow>;
  private readonly pageByTag: BetterSqlite3.Statement<[string, number, number], BookRow>;
  private readonly insert: BetterSqlite3.Statement<[string, number, number, string, string]>;
  private readonly remove: BetterSqlite3.Statement<[number]>;
  private readonly existsInTx: BetterSqlite3.Statement<[number]>;

  constructor(@inject(BookstoreDatabase) db: BookstoreDatabase) {
    this.existsInTx = db.writer.prepare("SELECT 1 FROM books WHERE id = ?");
    this.insert = db.writer.prepare("INSERT INTO books (title, author_id, price, tags, created_at) VALUES (?, ?, ?, ?, ?)");
    this.remove = db.writer.prepare("DELETE FROM books WHERE id = ?");
    // Prepared once: reads on the reader, writes on the writer (the connection every Transaction holds).
    this.byId = db.reader.prepare("SELECT * FROM books WHERE id = ?");
    this.page = db.reader.prepare("SELECT * FROM books ORDER BY id LIMIT ? OFFSET ?");
    this.pageByTag = db.reader.prepare(
      "SELECT * FROM books WHERE EXISTS (SELECT 1 FROM json_each(books.tags) WHERE value = ?) ORDER BY id LIMIT ? OFFSET ?",
    );
  }

  list(query: BookQuery): Book[] {
    const rows =
      query.tag === undefined ? this.page.all(query.limit, query.offset) : this.pageByTag.all(query.tag, query.limit, query.offset);
    return rows.map(toBook);
  }

  get(id: number): Book | undefined {
    const row = this.byId.get(id);
    return row === undefined ? undefined : toBook(row);
  }

  create(_tx: Transaction, input: BookCreate): Book {
    const createdAt = new Date().toISOString();
    const tags = input.tags ?? [];
    const result = this.insert.run(input.title, input.authorId, input.price, JSON.stringify(tags), createdAt);
    return { id: Number(result.lastInsertRowid), title: input.title, authorId: input.authorId, price: input.price, tags, createdAt };
  }

  /** Looks inside the transaction: a book deleted by a request that committed first does not count. */
  exists(_tx: Transaction, id: number): boolean {
    return this.existsInTx.get(id) !== undefined;
  }

  /** True when a book was deleted. */
  delete(_tx: Transaction, id: number): boolean {
    return this.remove.run(id).changes > 0;
  }
}
