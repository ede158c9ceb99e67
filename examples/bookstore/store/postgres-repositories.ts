/**
 * The repositories on PostgreSQL. Reads without a transaction borrow a pooled client for one query
 * (committed rows only, as SQLite's reader); the others run on the transaction's client.
 *
 * SQLite runs one write transaction at a time, PostgreSQL many at once (READ COMMITTED), so the
 * reads a write depends on lock what they read, to keep SQLite's outcomes:
 * - a book checked before writing about it (a sale, a cover) is locked `FOR KEY SHARE`: a
 *   concurrent deletion waits for this transaction, and one that committed first makes this one
 *   see no book (404), instead of a foreign-key error (500) at the insert;
 * - cover changes of one book lock the book row `FOR NO KEY UPDATE`, so they take turns and each
 *   sees the cover the previous one left (the file it replaces is the file it read).
 *
 * @module
 */
import type { Author, Book, BookCreate, BookQuery } from "../schemas.js";
import {
  AuthorRepository,
  BookRepository,
  CoverRepository,
  SaleRepository,
  UserRepository,
  type StoredCover,
  type StoredSale,
  type StoredUser,
  type Transaction,
} from "./contracts.js";
import { clientOf } from "./postgres-transaction.js";
import type { PostgresStore } from "./postgres-store.js";

interface BookRow {
  id: number;
  title: string;
  author_id: number;
  price: number;
  tags: string[];
  created_at: Date;
}

const BOOK_COLUMNS = "id, title, author_id, price, tags, created_at";

const toBook = (row: BookRow): Book => ({
  id: row.id,
  title: row.title,
  authorId: row.author_id,
  price: row.price,
  tags: row.tags,
  createdAt: row.created_at.toISOString(),
});

/** Authors on PostgreSQL. */
export class PostgresAuthorRepository extends AuthorRepository {
  override async create(tx: Transaction, name: string): Promise<Author> {
    const { rows } = await clientOf(tx).query<{ id: number }>("INSERT INTO authors (name) VALUES ($1) RETURNING id", [name]);
    return { id: rows[0]!.id, name };
  }

  override async exists(tx: Transaction, id: number): Promise<boolean> {
    // KEY SHARE: the author cannot be deleted under the book about to reference it.
    const { rowCount } = await clientOf(tx).query("SELECT 1 FROM authors WHERE id = $1 FOR KEY SHARE", [id]);
    return rowCount !== null && rowCount > 0;
  }
}

/** Books on PostgreSQL: tags as `text[]`, prices as `double precision`. */
export class PostgresBookRepository extends BookRepository {
  constructor(private readonly store: PostgresStore) {
    super();
  }

  override async list(query: BookQuery): Promise<Book[]> {
    const rows =
      query.tag === undefined
        ? await this.store.query<BookRow>(`SELECT ${BOOK_COLUMNS} FROM books ORDER BY id LIMIT $1 OFFSET $2`, [query.limit, query.offset])
        : await this.store.query<BookRow>(`SELECT ${BOOK_COLUMNS} FROM books WHERE tags @> ARRAY[$1::text] ORDER BY id LIMIT $2 OFFSET $3`, [
            query.tag,
            query.limit,
            query.offset,
          ]);
    return rows.map(toBook);
  }

  override async get(id: number): Promise<Book | undefined> {
    const rows = await this.store.query<BookRow>(`SELECT ${BOOK_COLUMNS} FROM books WHERE id = $1`, [id]);
    return rows[0] === undefined ? undefined : toBook(rows[0]);
  }

  override async create(tx: Transaction, input: BookCreate): Promise<Book> {
    const createdAt = new Date().toISOString();
    const tags = input.tags ?? [];
    const { rows } = await clientOf(tx).query<{ id: number }>(
      "INSERT INTO books (title, author_id, price, tags, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
      [input.title, input.authorId, input.price, tags, createdAt],
    );
    return { id: rows[0]!.id, title: input.title, authorId: input.authorId, price: input.price, tags, createdAt };
  }

  override async exists(tx: Transaction, id: number): Promise<boolean> {
    const { rowCount } = await clientOf(tx).query("SELECT 1 FROM books WHERE id = $1 FOR KEY SHARE", [id]);
    return rowCount !== null && rowCount > 0;
  }

  override async delete(tx: Transaction, id: number): Promise<boolean> {
    const { rowCount } = await clientOf(tx).query("DELETE FROM books WHERE id = $1", [id]);
    return rowCount !== null && rowCount > 0;
  }
}

interface CoverRow {
  book_id: number;
  file: string;
  media_type: string;
  size: number;
}

const toCover = (row: CoverRow): StoredCover => ({ bookId: row.book_id, file: row.file, mediaType: row.media_type, size: row.size });

/** Covers on PostgreSQL. */
export class PostgresCoverRepository extends CoverRepository {
  constructor(private readonly store: PostgresStore) {
    super();
  }

  override async get(bookId: number): Promise<StoredCover | undefined> {
    const rows = await this.store.query<CoverRow>("SELECT book_id, file, media_type, size FROM covers WHERE book_id = $1", [bookId]);
    return rows[0] === undefined ? undefined : toCover(rows[0]);
  }

  override async find(tx: Transaction, bookId: number): Promise<StoredCover | undefined> {
    const client = clientOf(tx);
    // Two statements on purpose: under READ COMMITTED a statement that waited for a lock still
    // reads the other tables as of its start, so the cover row is read by a second statement,
    // after the wait, and sees what the transaction before committed.
    await client.query("SELECT 1 FROM books WHERE id = $1 FOR NO KEY UPDATE", [bookId]);
    const { rows } = await client.query<CoverRow>("SELECT book_id, file, media_type, size FROM covers WHERE book_id = $1", [bookId]);
    return rows[0] === undefined ? undefined : toCover(rows[0]);
  }

  override async put(tx: Transaction, cover: StoredCover): Promise<void> {
    await clientOf(tx).query(
      "INSERT INTO covers (book_id, file, media_type, size) VALUES ($1, $2, $3, $4) " +
        "ON CONFLICT (book_id) DO UPDATE SET file = excluded.file, media_type = excluded.media_type, size = excluded.size",
      [cover.bookId, cover.file, cover.mediaType, cover.size],
    );
  }

  override async delete(tx: Transaction, bookId: number): Promise<boolean> {
    const { rowCount } = await clientOf(tx).query("DELETE FROM covers WHERE book_id = $1", [bookId]);
    return rowCount !== null && rowCount > 0;
  }
}

/** Sales on PostgreSQL. */
export class PostgresSaleRepository extends SaleRepository {
  override async record(tx: Transaction, bookId: number, quantity: number): Promise<StoredSale | undefined> {
    const client = clientOf(tx);
    const book = await client.query<{ price: number }>("SELECT price FROM books WHERE id = $1 FOR KEY SHARE", [bookId]);
    const unitPrice = book.rows[0]?.price;
    if (unitPrice === undefined) return undefined;
    const soldAt = new Date().toISOString();
    const { rows } = await client.query<{ id: number }>(
      "INSERT INTO sales (book_id, quantity, unit_price, sold_at) VALUES ($1, $2, $3, $4) RETURNING id",
      [bookId, quantity, unitPrice, soldAt],
    );
    return { id: rows[0]!.id, bookId, quantity, unitPrice, soldAt };
  }
}

/** Users on PostgreSQL: scopes as `text[]`. */
export class PostgresUserRepository extends UserRepository {
  constructor(private readonly store: PostgresStore) {
    super();
  }

  override async find(username: string): Promise<StoredUser | undefined> {
    const rows = await this.store.query<{ username: string; password_hash: string; scopes: string[] }>(
      "SELECT username, password_hash, scopes FROM users WHERE username = $1",
      [username],
    );
    const row = rows[0];
    return row === undefined ? undefined : { username: row.username, passwordHash: row.password_hash, scopes: row.scopes };
  }

  override async save(tx: Transaction, user: StoredUser): Promise<void> {
    await clientOf(tx).query(
      "INSERT INTO users (username, password_hash, scopes) VALUES ($1, $2, $3) " +
        "ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash, scopes = excluded.scopes",
      [user.username, user.passwordHash, user.scopes],
    );
  }
}
