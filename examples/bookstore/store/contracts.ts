/**
 * What the bookstore's routes may ask of a store, whichever database is behind it.
 *
 * Two stores implement these contracts: SQLite (`sqlite-*.ts`, the default, one file, no server)
 * and PostgreSQL (`postgres-*.ts`, a node-postgres pool). The contracts are abstract classes, not
 * interfaces, because the DI container keys services by class: a route declares
 * `deps: { books: BookRepository }` and receives the implementation the app provided for that
 * class, never knowing which database answers.
 *
 * Every method returns a promise (PostgreSQL answers over a socket). Writes take a
 * {@link Transaction}: the only way to get one is the request's transaction dependency, so a
 * write outside a transaction does not type-check. Reads without a transaction see committed rows
 * only; reads that take one see the transaction's own writes and, on PostgreSQL, lock the rows
 * they read as SQLite's single writer would (see each method).
 *
 * Deliberately left out: updates of books and authors (the API has none), and a read inside a
 * transaction through the non-transaction methods: on PostgreSQL that takes a second pooled
 * client while the first is held, and with every client held that way the pool deadlocks until
 * its timeout. Inside a transaction, use the methods that take `tx`.
 *
 * @module
 */
import type { Author, Book, BookCreate, BookQuery } from "../schemas.js";

/** Which database a store talks to. */
export type StoreKind = "sqlite" | "postgres";

/**
 * An open write transaction: proof, in a repository method's signature, that one is open.
 * Each store has its own subclass, which carries its connection; a store refuses another's.
 */
export abstract class Transaction {
  /** The store the transaction belongs to. */
  abstract readonly kind: StoreKind;
}

/** A transaction as its owner (the transaction dependency) drives it. */
export interface TransactionHandle {
  /** The proof handed to repositories. */
  readonly tx: Transaction;
  /** Makes the writes durable; throws when the database refuses (the request then answers 500). */
  commit(): Promise<void>;
  /** Undoes the writes. On PostgreSQL it never throws: a client that cannot roll back is discarded at release. */
  rollback(): Promise<void>;
  /** Gives the connection back (the SQLite write lock, the pooled PostgreSQL client); called once, last, always. */
  release(): void;
}

/** A user as stored: name, scrypt hash, granted scopes. */
export interface StoredUser {
  username: string;
  passwordHash: string;
  scopes: string[];
}

/** A stored cover: its row, with the name of its file. */
export interface StoredCover {
  bookId: number;
  file: string;
  mediaType: string;
  size: number;
}

/** A recorded sale. */
export interface StoredSale {
  id: number;
  bookId: number;
  quantity: number;
  unitPrice: number;
  /** ISO 8601, UTC, milliseconds (what `Date.prototype.toISOString` writes). */
  soldAt: string;
}

/** Authors. */
export abstract class AuthorRepository {
  /** Stores an author; ids count up from 1. */
  abstract create(tx: Transaction, name: string): Promise<Author>;
  /** True when the author exists as the transaction sees it (an author created earlier in it counts). */
  abstract exists(tx: Transaction, id: number): Promise<boolean>;
}

/** Books. Ids count up from 1; `createdAt` is an ISO 8601 string; `price` a number; `tags` keep their order. */
export abstract class BookRepository {
  /** A page of committed books, by id, optionally only those tagged `query.tag`. */
  abstract list(query: BookQuery): Promise<Book[]>;
  /** A committed book. */
  abstract get(id: number): Promise<Book | undefined>;
  /** Stores a book whose author the caller checked in the same transaction. */
  abstract create(tx: Transaction, input: BookCreate): Promise<Book>;
  /**
   * True when the book exists as the transaction sees it; the row stays locked against deletion
   * until the transaction ends, so what is written about it next cannot lose its book.
   */
  abstract exists(tx: Transaction, id: number): Promise<boolean>;
  /** Deletes a book (its cover row and sales with it); true when there was one. */
  abstract delete(tx: Transaction, id: number): Promise<boolean>;
}

/** The `covers` table: which file is a book's cover. */
export abstract class CoverRepository {
  /** The committed cover of a book. */
  abstract get(bookId: number): Promise<StoredCover | undefined>;
  /**
   * The cover as the transaction sees it, before it replaces or deletes it. Cover changes of one
   * book take turns from here to the end of their transactions, so the cover a request replaces
   * is the one it read, and every old file is removed exactly once.
   */
  abstract find(tx: Transaction, bookId: number): Promise<StoredCover | undefined>;
  /** Points the book at a new cover (inserting or replacing the row). */
  abstract put(tx: Transaction, cover: StoredCover): Promise<void>;
  /** True when a cover row was deleted. */
  abstract delete(tx: Transaction, bookId: number): Promise<boolean>;
}

/** Sales. */
export abstract class SaleRepository {
  /** Records a sale of `bookId` at its current price; undefined when there is no such book. */
  abstract record(tx: Transaction, bookId: number, quantity: number): Promise<StoredSale | undefined>;
}

/** Users. There is no sign-up: users are written at startup only. */
export abstract class UserRepository {
  /** The committed user of that name. */
  abstract find(username: string): Promise<StoredUser | undefined>;
  /** Creates the user, or replaces the hash and scopes of the one of that name. */
  abstract save(tx: Transaction, user: StoredUser): Promise<void>;
}

/**
 * A store: its repositories, and the connection(s) behind them. Created with the app (opening
 * nothing), opened by the lifespan startup, closed by the lifespan shutdown after the last request.
 */
export abstract class BookstoreStore {
  /** Which database this is. */
  abstract readonly kind: StoreKind;
  /** Where the data lives, for logs and errors: a file, or a URL without its password. */
  abstract readonly location: string;
  abstract readonly authors: AuthorRepository;
  abstract readonly books: BookRepository;
  abstract readonly covers: CoverRepository;
  abstract readonly sales: SaleRepository;
  abstract readonly users: UserRepository;
  /** Connects and creates the schema (idempotently); rejects with an error naming {@link location}. */
  abstract open(): Promise<void>;
  /** Closes every connection (idempotent). */
  abstract close(): Promise<void>;
  /** Waits for a connection that may write, and begins a transaction on it. */
  abstract begin(): Promise<TransactionHandle>;
}
