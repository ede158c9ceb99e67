/**
 * Choosing the bookstore's store from `DATABASE_URL` and the options, and telling "no connection
 * now" (503, and a retry for the report task) from a query the database refused (500).
 */
import t from "tap";
import {
  DEFAULT_POOL_SIZE,
  DEFAULT_POOL_TIMEOUT_MS,
  createStore,
  resolveStoreLocation,
} from "../../../../examples/bookstore/store/store-location.js";
import { DatabaseUnavailable, describeConnectionError, isUnavailable } from "../../../../examples/bookstore/store/database-unavailable.js";
import { buildSalesReport } from "../../../../examples/bookstore/store/sales-report.js";
import { matchesRetryOn } from "../../../../lib/tasks/worker/retry-policy.js";
import { SqliteStore } from "../../../../examples/bookstore/store/sqlite-store.js";
import { PostgresStore } from "../../../../examples/bookstore/store/postgres-store.js";
import { silentLogger } from "../../../../lib/logger.js";

const defaultFile = "/srv/bookstore/default.db";

t.test("precedence: the databaseUrl option, the databaseFile option, DATABASE_URL, BOOKSTORE_DB, the default", async (t) => {
  const env = { DATABASE_URL: "postgres://env@db/books", BOOKSTORE_DB: "/env/books.db" };
  t.strictSame(resolveStoreLocation({ databaseUrl: "sqlite:///opt/x.db", databaseFile: "/f.db", defaultFile }, env), { kind: "sqlite", file: "/opt/x.db" });
  t.strictSame(resolveStoreLocation({ databaseFile: "/f.db", defaultFile }, env), { kind: "sqlite", file: "/f.db" }, "a test's file is not redirected by DATABASE_URL");
  t.strictSame(resolveStoreLocation({ defaultFile }, env), {
    kind: "postgres",
    url: "postgres://env@db/books",
    poolSize: DEFAULT_POOL_SIZE,
    poolTimeoutMs: DEFAULT_POOL_TIMEOUT_MS,
  });
  t.strictSame(resolveStoreLocation({ defaultFile }, { DATABASE_URL: "", BOOKSTORE_DB: "/env/books.db" }), { kind: "sqlite", file: "/env/books.db" }, "an empty DATABASE_URL is unset");
  t.strictSame(resolveStoreLocation({ defaultFile }, {}), { kind: "sqlite", file: defaultFile });
});

t.test("URL forms", async (t) => {
  const at = (url: string) => resolveStoreLocation({ defaultFile }, { DATABASE_URL: url });
  t.match(at("postgresql://u:p@h:5433/d?sslmode=disable"), { kind: "postgres", url: "postgresql://u:p@h:5433/d?sslmode=disable" });
  t.match(at("POSTGRES://h/d"), { kind: "postgres" });
  t.strictSame(at("sqlite:///var/lib/books.db"), { kind: "sqlite", file: "/var/lib/books.db" });
  t.strictSame(at("sqlite://data/books.db"), { kind: "sqlite", file: "data/books.db" });
  t.strictSame(at("sqlite:books.db"), { kind: "sqlite", file: "books.db" });
  for (const bad of ["mysql://h/d", "postgres:/h/d", "books.db", "sqlite://", "http://h/"]) {
    t.throws(() => at(bad), /DATABASE_URL must be|a sqlite URL needs a file/, bad);
  }
  t.throws(() => at("mysql://user:secret@h/d"), { message: /got "mysql…"$/ }, "the error shows the scheme, never the rest of the URL");
});

t.test("pool settings: options, then the environment; positive integers only, checked for PostgreSQL only", async (t) => {
  const env = { DATABASE_URL: "postgres://h/d", DATABASE_POOL_SIZE: "4", DATABASE_POOL_TIMEOUT_MS: "250" };
  t.match(resolveStoreLocation({ defaultFile }, env), { poolSize: 4, poolTimeoutMs: 250 });
  t.match(resolveStoreLocation({ defaultFile, poolSize: 7, poolTimeoutMs: 9 }, env), { poolSize: 7, poolTimeoutMs: 9 });
  for (const value of ["0", "-1", "2.5", "ten", " "]) {
    t.throws(() => resolveStoreLocation({ defaultFile }, { ...env, DATABASE_POOL_SIZE: value }), /DATABASE_POOL_SIZE must be a positive integer/, value);
  }
  t.throws(() => resolveStoreLocation({ defaultFile }, { ...env, DATABASE_POOL_TIMEOUT_MS: "0" }), /DATABASE_POOL_TIMEOUT_MS must be a positive integer/);
  t.strictSame(resolveStoreLocation({ defaultFile }, { DATABASE_POOL_SIZE: "ten" }), { kind: "sqlite", file: defaultFile }, "SQLite ignores pool settings");
});

t.test("createStore makes the store the location names, opening nothing; the location hides the password", async (t) => {
  const sqlite = createStore({ kind: "sqlite", file: "/nowhere/books.db" }, silentLogger);
  t.ok(sqlite instanceof SqliteStore);
  t.equal(sqlite.location, "/nowhere/books.db");
  const postgres = createStore({ kind: "postgres", url: "postgres://ann:s3cret@db:5432/books", poolSize: 3, poolTimeoutMs: 100 }, silentLogger);
  t.ok(postgres instanceof PostgresStore);
  t.equal(postgres.location, "postgres://ann:***@db:5432/books");
  t.throws(() => (postgres as PostgresStore).pool, /not open \(the lifespan startup opens it\)/);
  await t.rejects(postgres.begin(), /not open/);
});

t.test("isUnavailable: no connection now (503) versus a refused query (500)", async (t) => {
  const withCode = (code: string, message = "x") => Object.assign(new Error(message), { code });
  for (const error of [
    new Error("timeout exceeded when trying to connect"),
    new Error("Connection terminated due to connection timeout"),
    withCode("53300", "sorry, too many clients already"),
    withCode("57P03", "the database system is starting up"),
    withCode("57P01", "terminating connection due to administrator command"),
    withCode("ECONNREFUSED"),
    new AggregateError([withCode("ECONNREFUSED", "connect ECONNREFUSED ::1:5432"), withCode("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:5432")], ""),
  ]) {
    t.ok(isUnavailable(error), error.message || "AggregateError");
  }
  for (const error of [withCode("23503", "foreign key violation"), withCode("42P01", "relation does not exist"), new Error("a bug"), "a string", undefined]) {
    t.notOk(isUnavailable(error), String(error));
  }
  t.equal(
    describeConnectionError(new AggregateError([withCode("ECONNREFUSED", "connect ECONNREFUSED ::1:5432"), withCode("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:5432")], "")),
    "connect ECONNREFUSED ::1:5432; connect ECONNREFUSED 127.0.0.1:5432",
    "an empty AggregateError is described by its parts",
  );
  t.equal(describeConnectionError(withCode("ECONNRESET", "")), "ECONNRESET");
});

t.test("the report task meets an unreachable PostgreSQL with DatabaseUnavailable, which it retries", async (t) => {
  const location = { kind: "postgres" as const, url: "postgres://u:pw@127.0.0.1:1/books", poolSize: 1, poolTimeoutMs: 1000 };
  const failure = await buildSalesReport(location, 5).then(
    () => undefined,
    (error: unknown) => error,
  );
  t.ok(failure instanceof DatabaseUnavailable, "a 503-kind error, not a crash");
  t.ok(matchesRetryOn(failure, ["SqliteError", DatabaseUnavailable]), "the task's autoretryFor matches it");
});
