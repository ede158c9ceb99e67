/**
 * A PostgreSQL write transaction: the proof repositories take, holding the pooled client the
 * transaction runs on until the transaction dependency releases it.
 *
 * @module
 */
import type pg from "pg";
import { Transaction } from "./contracts.js";

/** A transaction on one pooled client; unusable once its client went back to the pool. */
export class PostgresTransaction extends Transaction {
  readonly kind = "postgres" as const;
  #client: pg.PoolClient | undefined;

  constructor(client: pg.PoolClient) {
    super();
    this.#client = client;
  }

  /** The transaction's client; throws once the transaction ended (a background task must not write through it). */
  get client(): pg.PoolClient {
    if (this.#client === undefined) throw new Error("this PostgreSQL transaction has ended: its client went back to the pool");
    return this.#client;
  }

  /** Forgets the client (called when it is released). */
  end(): void {
    this.#client = undefined;
  }
}

/** The client of a PostgreSQL transaction; refuses another store's. */
export function clientOf(tx: Transaction): pg.PoolClient {
  if (!(tx instanceof PostgresTransaction)) throw new TypeError(`a ${tx.kind} transaction was passed to the PostgreSQL store`);
  return tx.client;
}
