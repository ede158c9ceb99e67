/**
 * The PostgreSQL store: a node-postgres pool, its repositories, and a pooled client per write
 * transaction.
 *
 * - **Opening** (lifespan startup): the pool connects once and creates the schema under an
 *   advisory lock; a database that cannot be reached rejects with an error naming it (without its
 *   password), so the server stops before it accepts anything.
 * - **Reads** borrow a client for one query and give it back.
 * - **Transactions** hold one client from `BEGIN` to `COMMIT`/`ROLLBACK`; the transaction
 *   dependency releases it after the handler, whatever happened.
 * - **A full pool**: a request waits for a client at most `poolTimeoutMs`, then answers 503
 *   ({@link DatabaseUnavailable}) and the wait is logged with the pool's counters; so does a server
 *   refusing connections (at `max_connections`, or down).
 * - **Closing** (lifespan shutdown, after the last request): `pool.end()`.
 *
 * `pg` is imported when the store opens, so the SQLite default never loads it.
 *
 * @module
 */
import type pg from "pg";
import type { Logger } from "../../../lib/logger.js";
import { redact } from "../../../lib/tasks/connect.js";
import { BookstoreStore, type TransactionHandle } from "./contracts.js";
import { PostgresTransaction } from "./postgres-transaction.js";
import { DatabaseUnavailable, describeConnectionError, isUnavailable } from "./database-unavailable.js";
import { POSTGRES_SCHEMA, SCHEMA_LOCK_KEY } from "./postgres-schema.js";
import {
  PostgresAuthorRepository,
  PostgresBookRepository,
  PostgresCoverRepository,
  PostgresSaleRepository,
  PostgresUserRepository,
} from "./postgres-repositories.js";

/** Settings of the PostgreSQL store. */
export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database?options=-c%20search_path%3Dschema` (libpq's URL form). */
  url: string;
  /** Most connections this process opens (`DATABASE_POOL_SIZE`, default 10, pg's own default). */
  poolSize: number;
  /** How long a request waits for a free client before it answers 503 (`DATABASE_POOL_TIMEOUT_MS`, default 5000). */
  poolTimeoutMs: number;
  logger: Logger;
}

/** The pool's counters, as logged with a 503 (pg-pool's names). */
export interface PoolStats {
  /** The pool's `max`. */
  size: number;
  /** Clients open, busy or idle. */
  total: number;
  idle: number;
  /** Requests waiting for a client. */
  waiting: number;
}

/** A client borrowed from the pool, and how to give it back (with an error: to be closed, not reused). */
export interface Lease {
  readonly client: pg.PoolClient;
  release(error?: Error): void;
}

/** The application name the pool's connections show in `pg_stat_activity`. */
export const APPLICATION_NAME = "laminar-bookstore";

/** The bookstore on PostgreSQL. */
export class PostgresStore extends BookstoreStore {
  readonly kind = "postgres" as const;
  readonly location: string;
  readonly authors: PostgresAuthorRepository;
  readonly books: PostgresBookRepository;
  readonly covers: PostgresCoverRepository;
  readonly sales: PostgresSaleRepository;
  readonly users: PostgresUserRepository;
  #pool: pg.Pool | undefined;
  #databaseError: typeof pg.DatabaseError | undefined;

  constructor(readonly options: PostgresStoreOptions) {
    super();
    this.location = redact(options.url);
    this.authors = new PostgresAuthorRepository();
    this.books = new PostgresBookRepository(this);
    this.covers = new PostgresCoverRepository(this);
    this.sales = new PostgresSaleRepository();
    this.users = new PostgresUserRepository(this);
  }

  /** The pool; throws before the lifespan opened the store. */
  get pool(): pg.Pool {
    if (this.#pool === undefined) throw new Error("the bookstore database is not open (the lifespan startup opens it)");
    return this.#pool;
  }

  /** The pool's counters now. */
  stats(): PoolStats {
    const pool = this.pool;
    return { size: this.options.poolSize, total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount };
  }

  override async open(): Promise<void> {
    if (this.#pool !== undefined) return;
    const { default: pgModule } = await import("pg");
    const pool = new pgModule.Pool({
      connectionString: this.options.url,
      max: this.options.poolSize,
      connectionTimeoutMillis: this.options.poolTimeoutMs,
      application_name: APPLICATION_NAME,
    });
    // An idle client whose connection dies (the server restarted, an idle timeout on the way)
    // is an 'error' event on the pool; unheard, it would crash the worker (node-postgres #2386).
    pool.on("error", (error) => this.options.logger.warn({ err: error, database: this.location }, "an idle database connection failed; the pool drops it"));
    try {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        await client.query("SELECT pg_advisory_xact_lock($1)", [SCHEMA_LOCK_KEY]);
        await client.query(POSTGRES_SCHEMA);
        await client.query("COMMIT");
        client.release();
      } catch (error) {
        client.release(error as Error);
        throw error;
      }
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw new Error(`cannot open the bookstore's PostgreSQL database ${this.location}: ${describeConnectionError(error)}`, { cause: error });
    }
    this.#databaseError = pgModule.DatabaseError;
    this.#pool = pool;
  }

  override async close(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    await pool?.end();
  }

  /**
   * A client from the pool, with an error listener for as long as it is out. Waiting longer than
   * the pool's timeout, or a server that refuses the connection, is a {@link DatabaseUnavailable}
   * (503), logged here with the pool's counters.
   */
  async connect(): Promise<Lease> {
    const pool = this.pool;
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      if (!isUnavailable(error)) throw error;
      this.options.logger.error(
        { err: error, database: this.location, pool: this.stats(), poolTimeoutMs: this.options.poolTimeoutMs },
        `no database connection: ${describeConnectionError(error)}; answering 503`,
      );
      throw new DatabaseUnavailable(error);
    }
    // pg-pool listens for errors only on idle clients. A session that ends while its client is out
    // and between queries (the server restarts, an admin terminates it) emits 'error' on the
    // client, which would crash the process unheard (node-postgres #2439, #3202); the query
    // that follows fails, and the client is discarded at release.
    let failed: Error | undefined;
    const onError = (error: Error): void => {
      failed = error;
      this.options.logger.warn({ err: error, database: this.location }, "a database connection in use failed; it will be discarded");
    };
    client.on("error", onError);
    return {
      client,
      release: (error?: Error) => {
        client.off("error", onError);
        // release(error) closes the connection instead of returning it to the pool.
        client.release(error ?? failed);
      },
    };
  }

  /** Runs one query on a borrowed client (committed data only) and returns its rows. */
  async query<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<R[]> {
    const lease = await this.connect();
    let broken: Error | undefined;
    try {
      return (await lease.client.query<R>(text, values)).rows;
    } catch (error) {
      broken = this.brokenBy(error);
      throw error;
    } finally {
      lease.release(broken);
    }
  }

  override async begin(): Promise<TransactionHandle> {
    const lease = await this.connect();
    const client = lease.client;
    try {
      await client.query("BEGIN");
    } catch (error) {
      lease.release(this.brokenBy(error));
      throw error;
    }
    const tx = new PostgresTransaction(client);
    const logger = this.options.logger;
    const location = this.location;
    let broken: Error | undefined;
    let released = false;
    return {
      tx,
      async commit() {
        await client.query("COMMIT");
      },
      async rollback() {
        try {
          // After a failed COMMIT the server already ended the transaction: ROLLBACK is then a no-op with a warning.
          await client.query("ROLLBACK");
        } catch (error) {
          // A client that cannot roll back may still hold the transaction open: never reuse it.
          broken = error as Error;
          logger.warn({ err: error, database: location }, "ROLLBACK failed; the connection is discarded");
        }
      },
      release() {
        if (released) return;
        released = true;
        tx.end();
        lease.release(broken);
      },
    };
  }

  /**
   * The error to release a client with: undefined for an error the server answered (a constraint,
   * a syntax error: the connection is fine), the error itself when the connection may be unusable.
   */
  private brokenBy(error: unknown): Error | undefined {
    const DatabaseError = this.#databaseError;
    if (DatabaseError !== undefined && error instanceof DatabaseError && !isUnavailable(error)) return undefined;
    return error instanceof Error ? error : new Error(String(error));
  }
}
