/**
 * The stores the bookstore's tests run against: SQLite always, PostgreSQL when 127.0.0.1:5432
 * answers (database `test`, user `postgres`, trust auth; `BOOKSTORE_TEST_POSTGRES_URL` overrides),
 * else skipped with the reason.
 *
 * Each PostgreSQL bookstore gets a fresh schema (`bookstore_<random>`), named in its
 * `DATABASE_URL` through libpq's `options=-c search_path=...`, and dropped when the test ends, so
 * test files running in parallel never see each other's rows and ids start at 1 in every test.
 */
import type { Test } from "tap";
import { randomBytes } from "node:crypto";
import pg from "pg";
import type { BookstoreOptions } from "../../../examples/bookstore/app.js";

/** The server the PostgreSQL variant uses. */
export const POSTGRES_URL = process.env.BOOKSTORE_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";

async function probe(): Promise<string | false> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return false;
  } catch (error) {
    const message = error instanceof AggregateError ? error.errors.map((e: Error) => e.message).join("; ") : (error as Error).message;
    return `PostgreSQL is not reachable at ${POSTGRES_URL} (${message || String(error)}): start it to run the bookstore's tests on PostgreSQL too`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Why the PostgreSQL variant is skipped, or false when it runs. */
export const postgresUnavailable: string | false = await probe();

/** A store the tests run against. */
export interface StoreVariant {
  readonly name: "sqlite" | "postgres";
  /** A reason to skip (tap's `skip` option), or false. */
  readonly skip: string | false;
}

/** SQLite, then PostgreSQL. */
export const STORES: readonly StoreVariant[] = [
  { name: "sqlite", skip: false },
  { name: "postgres", skip: postgresUnavailable },
];

/** `POSTGRES_URL` with `search_path` set to `schema`. */
export function urlWithSchema(schema: string, base = POSTGRES_URL): string {
  const url = new URL(base);
  url.searchParams.set("options", `-c search_path=${schema}`);
  return url.toString();
}

/** Runs one statement on a connection of its own. */
export async function adminQuery(sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * Creates a schema of its own for this test and returns its name; drops it (with everything in it)
 * when the test ends. Call it before starting the app: teardowns run last-in first-out, so the app
 * closes its pool before the schema goes.
 */
export async function freshSchema(t: Test): Promise<string> {
  const schema = `bookstore_${randomBytes(6).toString("hex")}`;
  await adminQuery(`CREATE SCHEMA ${schema}`);
  t.teardown(() => adminQuery(`DROP SCHEMA ${schema} CASCADE`).then(() => undefined));
  return schema;
}

/**
 * What `createBookstore` needs, besides the test's own options, to use `store`: nothing for
 * SQLite (the test's `databaseFile`), a fresh schema's URL and a small pool for PostgreSQL.
 */
export async function storeOptions(t: Test, store: StoreVariant): Promise<Pick<BookstoreOptions, "databaseUrl" | "poolSize">> {
  if (store.name === "sqlite") return {};
  // 4 per bookstore: several test files run at once against one server (max_connections 100).
  return { databaseUrl: urlWithSchema(await freshSchema(t)), poolSize: 4 };
}
