/**
 * The bookstore's function dependencies, and how a store is provided to the app's DI container.
 *
 * @module
 */
import type { App } from "../../lib/app.js";
import { dependency } from "../../layers/di/dependency.js";
import {
  AuthorRepository,
  BookRepository,
  BookstoreStore,
  CoverRepository,
  SaleRepository,
  UserRepository,
  type Transaction,
} from "./store/contracts.js";

/**
 * Registers `store` and its repositories as the app's singletons, under the contract classes the
 * routes declare (`deps: { books: BookRepository }`): the routes never name a store.
 */
export function provideStore(app: App, store: BookstoreStore): void {
  app.provideValue(BookstoreStore, store);
  app.provideValue(AuthorRepository, store.authors);
  app.provideValue(BookRepository, store.books);
  app.provideValue(CoverRepository, store.covers);
  app.provideValue(SaleRepository, store.sales);
  app.provideValue(UserRepository, store.users);
}

/**
 * A write transaction for one request: begins once the store gives it a connection that may write
 * (SQLite: after the write lock; PostgreSQL: a pooled client, or 503 when none frees up in time),
 * commits when the handler succeeds, rolls back when it throws (the error is thrown into the
 * generator at its `yield`), and gives the connection back in every case. It exits after the
 * handler and before the response (`exit: "after-handler"`), so a failed commit is a 500, never a
 * 201 for a row that was not stored.
 */
export const transaction = dependency(
  { deps: { store: BookstoreStore }, exit: "after-handler", name: "transaction" },
  async function* ({ deps }) {
    const handle = await deps.store.begin();
    let committed = false;
    try {
      yield handle.tx;
      await handle.commit();
      committed = true;
    } finally {
      // Reached without a commit when the handler threw (thrown in at the yield) or COMMIT failed.
      try {
        if (!committed) await handle.rollback();
      } finally {
        handle.release();
      }
    }
  },
);

/** Runs `work` in a transaction outside a request (startup seeding): commits when it resolves, rolls back when it throws. */
export async function inTransaction<T>(store: BookstoreStore, work: (tx: Transaction) => Promise<T>): Promise<T> {
  const handle = await store.begin();
  try {
    const result = await work(handle.tx);
    await handle.commit();
    return result;
  } catch (error) {
    await handle.rollback();
    throw error;
  } finally {
    handle.release();
  }
}
