/**
 * The bookstore's function dependencies.
 *
 * @module
 */
import { dependency } from "../../layers/di/dependency.js";
import { BookstoreDatabase, Transaction } from "./database.js";

/**
 * A write transaction for one request: begins after taking the write lock, commits when the
 * handler succeeds, rolls back when it throws (the error is thrown into the generator at its
 * `yield`). It exits after the handler and before the response (`exit: "after-handler"`), so a
 * failed commit is a 500, never a 201 for a row that was not stored.
 */
export const transaction = dependency(
  { deps: { db: BookstoreDatabase }, exit: "after-handler", name: "transaction" },
  async function* ({ deps }) {
    const release = await deps.db.lock();
    const connection = deps.db.writer;
    try {
      connection.exec("BEGIN IMMEDIATE");
      let committed = false;
      try {
        yield new Transaction(connection);
        connection.exec("COMMIT");
        committed = true;
      } finally {
        // Reached without a commit when the handler threw (thrown in at the yield) or COMMIT failed.
        if (!committed && connection.inTransaction) connection.exec("ROLLBACK");
      }
    } finally {
      release();
    }
  },
);
