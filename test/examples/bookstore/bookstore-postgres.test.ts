/**
 * The bookstore's PostgreSQL store where it differs from SQLite: a database that cannot be reached
 * stops the startup; a transaction whose handler throws (or whose query fails) is rolled back and
 * its client goes back to the pool; a full pool makes requests wait, then answer 503; a server
 * refusing connections (a connection limit reached) answers 503 at once; the pool is closed at
 * shutdown; and the row locks that keep SQLite's outcomes under concurrent transactions.
 *
 * Skipped (except the unreachable-server test) when PostgreSQL is not running on 127.0.0.1:5432.
 */
import t, { type Test } from "tap";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { pino } from "pino";
import { FormData, request } from "undici";
import { App, HttpException, silentLogger, TestClient } from "../../../lib/index.js";
import { createBookstore } from "../../../examples/bookstore/app.js";
import { provideStore, transaction } from "../../../examples/bookstore/dependencies.js";
import { AuthorRepository, BookRepository } from "../../../examples/bookstore/store/contracts.js";
import { PostgresStore } from "../../../examples/bookstore/store/postgres-store.js";
import { clientOf } from "../../../examples/bookstore/store/postgres-transaction.js";
import { AUTH_OPTIONS, tokenOver } from "./auth-client.js";
import { adminQuery, freshSchema, postgresUnavailable, POSTGRES_URL, urlWithSchema } from "./stores.js";

type Line = Record<string, unknown>;

/** A logger that keeps its lines. */
function capturing(): { logger: ReturnType<typeof pino>; lines: Line[] } {
  const lines: Line[] = [];
  return { logger: pino({ level: "info", base: null }, { write: (s: string) => void lines.push(JSON.parse(s) as Line) }), lines };
}

/** Polls `check` until it holds (bounded: 200 × 10 ms). */
async function eventually(check: () => boolean | Promise<boolean>): Promise<boolean> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (await check()) return true;
    await sleep(10);
  }
  return false;
}

/** Polls until a bookstore statement containing `fragment` waits for a row lock (bounded). */
function waitingOn(fragment: string, applicationName = "laminar-bookstore"): Promise<boolean> {
  return eventually(async () => {
    const { rows } = await adminQuery(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND application_name = '${applicationName}' AND query LIKE '%${fragment}%'`,
    );
    return (rows[0] as { n: number }).n > 0;
  });
}

/** An open PostgreSQL store on a fresh schema, closed when the test ends. */
async function openStore(t: Test, settings: { poolSize?: number; poolTimeoutMs?: number; url?: string } = {}): Promise<PostgresStore> {
  const url = settings.url ?? urlWithSchema(await freshSchema(t));
  const store = new PostgresStore({ url, poolSize: settings.poolSize ?? 2, poolTimeoutMs: settings.poolTimeoutMs ?? 5000, logger: silentLogger });
  await store.open();
  t.teardown(() => store.close());
  return store;
}

t.test("an unreachable database stops the startup: the error names it, without its password, and nothing listens", async (t) => {
  // Port 1 on the loopback: nothing listens there, the connection is refused at once.
  const app = createBookstore({ databaseUrl: "postgres://bookstore:s3cret-pw@127.0.0.1:1/books", databaseFile: join(t.testdir(), "books.db"), logger: silentLogger });
  const failure = await app.listen({ host: "127.0.0.1", port: 0 }).then(
    () => undefined,
    (error: unknown) => error as Error,
  );
  t.ok(failure, "listen rejects");
  t.match(failure?.message, /startup failed: cannot open the bookstore's PostgreSQL database postgres:\/\/bookstore:\*\*\*@127\.0\.0\.1:1\/books: .*ECONNREFUSED/);
  t.notMatch(failure?.message, /s3cret-pw/, "the password is not in the error");
  await app.close();
});

t.test("a malformed DATABASE_URL or pool setting fails when the app is created", async (t) => {
  t.throws(() => createBookstore({ databaseUrl: "mysql://localhost/books", logger: silentLogger }), /DATABASE_URL must be postgres:\/\/…, postgresql:\/\/… or sqlite:\/\/…, got "mysql…"/);
  t.throws(() => createBookstore({ databaseUrl: POSTGRES_URL, poolSize: 0, logger: silentLogger }), /DATABASE_POOL_SIZE must be a positive integer, got 0/);
});

t.test("on PostgreSQL", { skip: postgresUnavailable }, async (t) => {
  t.test("a database that does not exist stops the startup, naming it", async (t) => {
    const url = new URL(POSTGRES_URL);
    url.pathname = `/no_such_database_${randomBytes(4).toString("hex")}`;
    const app = createBookstore({ databaseUrl: url.toString(), databaseFile: join(t.testdir(), "books.db"), logger: silentLogger });
    await t.rejects(app.listen({ host: "127.0.0.1", port: 0 }), new RegExp(`cannot open the bookstore's PostgreSQL database .*${url.pathname}: database "${url.pathname.slice(1)}" does not exist`));
  });

  t.test("the schema is created once, however many workers start together, and again is a no-op", async (t) => {
    const url = urlWithSchema(await freshSchema(t));
    const stores = Array.from({ length: 4 }, () => new PostgresStore({ url, poolSize: 1, poolTimeoutMs: 5000, logger: silentLogger }));
    t.teardown(() => Promise.all(stores.map((store) => store.close())));
    await Promise.all(stores.map((store) => store.open()));
    const reopened = new PostgresStore({ url, poolSize: 1, poolTimeoutMs: 5000, logger: silentLogger });
    await reopened.open();
    await reopened.close();
    t.strictSame(await stores[0]!.books.list({ limit: 5, offset: 0 }), []);
  });

  t.test("a handler that throws, or a query that fails, rolls back and gives the client back to the pool", async (t) => {
    const store = await openStore(t, { poolSize: 2 });
    const app = new App({ logger: silentLogger });
    provideStore(app, store);
    app.post("/conflict", { deps: { tx: transaction, authors: AuthorRepository } }, async ({ deps }) => {
      await deps.authors.create(deps.tx, "written then undone");
      throw new HttpException(409, "changed my mind");
    });
    app.post("/crash", { deps: { tx: transaction, authors: AuthorRepository } }, async ({ deps }) => {
      await deps.authors.create(deps.tx, "also undone");
      throw new Error("a bug in the handler");
    });
    // A foreign-key violation: the server aborts the transaction; the connection itself is fine.
    app.post("/orphan", { deps: { tx: transaction, books: BookRepository } }, ({ deps }) => deps.books.create(deps.tx, { title: "Orphan", authorId: 999, price: 1 }));
    app.post("/ok", { deps: { tx: transaction, authors: AuthorRepository } }, ({ deps }) => deps.authors.create(deps.tx, "kept"));
    const client = new TestClient(app);
    for (let round = 0; round < 3; round++) {
      t.equal((await client.post("/conflict")).status, 409);
      t.equal((await client.post("/crash")).status, 500);
      t.equal((await client.post("/orphan")).status, 500);
    }
    t.match(store.stats(), { size: 2, total: 1, idle: 1, waiting: 0 }, "one client, idle: every failed transaction gave it back, none was discarded");
    const kept = await client.post("/ok");
    t.equal(kept.status, 200, "the returned client is usable: no transaction was left open on it");
    const rows = await store.query<{ name: string }>("SELECT name FROM authors ORDER BY id", []);
    t.strictSame(
      rows.map((row) => row.name),
      ["kept"],
    );
    t.strictSame(await store.books.list({ limit: 10, offset: 0 }), []);
    t.match(store.stats(), { total: 1, idle: 1 });
  });

  t.test("a connection that dies is never reused: mid-transaction it is a 500 and discarded; idle, it is dropped and logged", async (t) => {
    const url = urlWithSchema(await freshSchema(t));
    const { logger, lines } = capturing();
    const store = new PostgresStore({ url, poolSize: 2, poolTimeoutMs: 5000, logger });
    await store.open();
    t.teardown(() => store.close());
    const app = new App({ logger: silentLogger });
    provideStore(app, store);
    // The server ends this transaction's session (what a restart or an admin's pg_terminate_backend does).
    app.post("/killed", { deps: { tx: transaction, authors: AuthorRepository } }, async ({ deps }) => {
      await deps.authors.create(deps.tx, "lost with its session");
      const { rows } = await clientOf(deps.tx).query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
      await adminQuery(`SELECT pg_terminate_backend(${rows[0]!.pid})`);
      return { written: true };
    });
    app.get("/authors", { deps: { authors: AuthorRepository } }, async () => store.query<{ name: string }>("SELECT name FROM authors", []));
    const client = new TestClient(app);
    t.equal((await client.post("/killed")).status, 500, "the COMMIT fails: never a 200 for a write that was not stored");
    t.match(store.stats(), { total: 0, idle: 0 }, "the dead client was discarded, not returned to the pool");
    t.ok(lines.some((line) => line.level === 40 && /ROLLBACK failed; the connection is discarded/.test(String(line.msg))));
    const after = await client.get("/authors");
    t.equal(after.status, 200, "the next request gets a new connection");
    t.strictSame(after.json(), []);

    // An idle client whose session ends: the pool's 'error' event is logged (unheard, it would crash the process).
    const { rows } = await adminQuery(`SELECT pid FROM pg_stat_activity WHERE application_name = 'laminar-bookstore' AND query = 'SELECT name FROM authors'`);
    t.equal(rows.length, 1, "one idle client");
    await adminQuery(`SELECT pg_terminate_backend(${(rows[0] as { pid: number }).pid})`);
    t.ok(await eventually(() => lines.some((line) => line.level === 40 && /an idle database connection failed/.test(String(line.msg)))), "logged");
    t.equal((await client.get("/authors")).status, 200, "served on a new connection");
  });

  t.test("a transaction cannot be used once its client went back to the pool", async (t) => {
    const store = await openStore(t);
    const handle = await store.begin();
    await handle.commit();
    handle.release();
    await t.rejects(store.authors.create(handle.tx, "late"), /this PostgreSQL transaction has ended/);
    t.match(store.stats(), { idle: 1 });
  });

  t.test("a full pool: requests wait for a client, then answer 503 with Retry-After, logged with the pool's counters", async (t) => {
    const url = urlWithSchema(await freshSchema(t));
    const { logger, lines } = capturing();
    const app = createBookstore({ databaseUrl: url, poolSize: 1, poolTimeoutMs: 300, databaseFile: join(t.testdir(), "books.db"), logger, ...AUTH_OPTIONS });
    const { url: base } = await app.listen({ host: "127.0.0.1", port: 0 });
    t.teardown(() => app.close({ timeout: 1000 }));
    const token = await tokenOver(base);
    const json = { "content-type": "application/json", authorization: `Bearer ${token}` };
    const author = (await (await request(`${base}/authors`, { method: "POST", headers: json, body: '{"name":"N. K. Jemisin"}' })).body.json()) as { id: number };
    const book = await request(`${base}/books`, { method: "POST", headers: json, body: JSON.stringify({ title: "The Fifth Season", authorId: author.id, price: 10 }) });
    t.equal(book.statusCode, 201);
    await book.body.dump();

    // Another session locks the book: the DELETE below gets the pool's only client, then waits on the lock holding it.
    const other = await openStore(t, { url, poolSize: 1 });
    const blocker = await other.begin();
    t.teardown(() => blocker.release());
    await clientOf(blocker.tx).query("SELECT 1 FROM books WHERE id = 1 FOR UPDATE");
    const deletion = request(`${base}/books/1`, { method: "DELETE", headers: { authorization: `Bearer ${token}` } });
    let deleted = false;
    void deletion.then(() => (deleted = true));

    // The pool's one client is now held by the DELETE: a read waits for it, then gives up.
    t.ok(await waitingOn("FOR NO KEY UPDATE"), "the DELETE waits on the lock, holding the client");
    const busy = await request(`${base}/books`);
    t.equal(busy.statusCode, 503, "no client within poolTimeoutMs");
    t.equal(busy.headers["retry-after"], "1");
    t.strictSame(await busy.body.json(), { detail: "The database is busy or unavailable; try again shortly" });
    const logged = lines.find((line) => line.level === 50 && /no database connection/.test(String(line.msg)));
    t.match(logged, { msg: /timeout exceeded when trying to connect; answering 503/, pool: { size: 1, total: 1, idle: 0 }, poolTimeoutMs: 300 });
    t.notOk(deleted, "the DELETE is still waiting");

    // The lock goes away: the DELETE finishes, and reads are served again.
    await blocker.commit();
    blocker.release();
    const done = await deletion;
    t.equal(done.statusCode, 204);
    await done.body.dump();
    const again = await request(`${base}/books`);
    t.equal(again.statusCode, 200);
    t.strictSame(await again.body.json(), []);
  });

  t.test("a request that finds the pool busy waits, and is served when a client comes back in time", async (t) => {
    const store = await openStore(t, { poolSize: 1, poolTimeoutMs: 10_000 });
    const app = new App({ logger: silentLogger });
    provideStore(app, store);
    let letGo!: () => void;
    const held = new Promise<void>((resolve) => (letGo = resolve));
    app.post("/hold", { deps: { tx: transaction } }, async () => {
      await held;
      return { held: true };
    });
    app.get("/books", { deps: { books: BookRepository } }, ({ deps }) => deps.books.list({ limit: 20, offset: 0 }));
    const client = new TestClient(app);
    const holding = client.post("/hold");
    t.ok(await eventually(() => store.stats().idle === 0), "the transaction holds the only client");
    let served = false;
    const read = client.get("/books").then((res) => {
      served = true;
      return res;
    });
    t.ok(await eventually(() => store.stats().waiting === 1), "the read waits in the pool's queue");
    t.notOk(served);
    letGo();
    t.equal((await holding).status, 200);
    t.equal((await read).status, 200, "served once the transaction gave its client back");
    t.match(store.stats(), { total: 1, idle: 1, waiting: 0 });
  });

  t.test("a server refusing connections (a connection limit reached) is a 503 at once; the pool closes at shutdown", async (t) => {
    // A role limited to 2 connections stands for a server at max_connections: the third is refused (SQLSTATE 53300).
    const role = `bookstore_limited_${randomBytes(4).toString("hex")}`;
    await adminQuery(`CREATE ROLE ${role} LOGIN CONNECTION LIMIT 2`);
    t.teardown(() => adminQuery(`DROP ROLE IF EXISTS ${role}`).then(() => undefined));
    const schema = await freshSchema(t);
    await adminQuery(`GRANT ALL ON SCHEMA ${schema} TO ${role}`);
    const url = new URL(urlWithSchema(schema));
    url.username = role;
    const { logger, lines } = capturing();
    const app = createBookstore({ databaseUrl: url.toString(), poolSize: 5, poolTimeoutMs: 5000, databaseFile: join(t.testdir(), "books.db"), logger, ...AUTH_OPTIONS });
    const { url: base } = await app.listen({ host: "127.0.0.1", port: 0 });
    t.teardown(() => app.close({ timeout: 1000 }));
    const token = await tokenOver(base);

    // Another process of the same role takes the other connection (a second worker, say).
    const neighbour = await openStore(t, { url: url.toString(), poolSize: 1 });
    const held = await neighbour.begin();
    t.teardown(() => held.release());
    // Two writes at once: one gets the app's connected client, the other needs a third connection.
    const [first, second] = await Promise.all(
      [0, 1].map((i) =>
        request(`${base}/authors`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
          body: JSON.stringify({ name: `Author ${i}` }),
        }),
      ),
    );
    const statuses = [first!.statusCode, second!.statusCode].sort();
    t.strictSame(statuses, [201, 503], "one served, one refused by the server: no wait for the pool timeout");
    for (const res of [first!, second!]) await res.body.dump();
    t.ok(
      lines.some((line) => line.level === 50 && /too many connections for role/.test(String(line.msg))),
      "the log says why",
    );
    held.release();

    const connections = async (): Promise<number> =>
      (await adminQuery(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = '${role}'`)).rows[0].n as number;
    await neighbour.close();
    t.ok((await connections()) >= 1, "the app's pool holds its connection while serving");
    await app.close({ timeout: 1000 });
    t.ok(await eventually(async () => (await connections()) === 0), "no connection left after shutdown");
  });

  t.test("a graceful close lets the transaction in flight commit before the pool ends", async (t) => {
    const url = urlWithSchema(await freshSchema(t));
    // A name of its own in pg_stat_activity (the URL's application_name wins over the store's).
    const name = `bookstore_close_${randomBytes(4).toString("hex")}`;
    const appUrl = new URL(url);
    appUrl.searchParams.set("application_name", name);
    const app = createBookstore({ databaseUrl: appUrl.toString(), poolSize: 2, databaseFile: join(t.testdir(), "books.db"), logger: silentLogger, ...AUTH_OPTIONS });
    const { url: base } = await app.listen({ host: "127.0.0.1", port: 0 });
    t.teardown(() => app.close({ timeout: 1000 }));
    const connections = async (): Promise<number> =>
      ((await adminQuery(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = '${name}'`)).rows[0] as { n: number }).n;
    const token = await tokenOver(base);
    const json = { "content-type": "application/json", authorization: `Bearer ${token}` };
    await (await request(`${base}/authors`, { method: "POST", headers: json, body: '{"name":"Iain M. Banks"}' })).body.dump();
    await (await request(`${base}/books`, { method: "POST", headers: json, body: JSON.stringify({ title: "Excession", authorId: 1, price: 8 }) })).body.dump();
    const other = await openStore(t, { url, poolSize: 1 });
    const blocker = await other.begin();
    t.teardown(() => blocker.release());
    await clientOf(blocker.tx).query("SELECT 1 FROM books WHERE id = 1 FOR UPDATE");
    const deletion = request(`${base}/books/1`, { method: "DELETE", headers: { authorization: `Bearer ${token}` } });
    t.ok(await waitingOn("FOR NO KEY UPDATE", name), "the DELETE is in its transaction");
    const closing = app.close({ timeout: 10_000 });
    await blocker.commit();
    blocker.release();
    // Had the pool ended under it, the COMMIT would have failed: a 500.
    t.equal((await deletion).statusCode, 204, "the request in flight is answered");
    await closing;
    t.strictSame(await other.books.list({ limit: 5, offset: 0 }), [], "and its deletion was committed");
    t.ok(await eventually(async () => (await connections()) === 0), "then the pool's connections are gone");
  });

  t.test("row locks keep SQLite's outcomes when transactions overlap", async (t) => {
    const url = urlWithSchema(await freshSchema(t));
    const directory = t.testdir();
    const coversDirectory = join(directory, "covers");
    const app = createBookstore({ databaseUrl: url, poolSize: 3, databaseFile: join(directory, "books.db"), coversDirectory, logger: silentLogger, ...AUTH_OPTIONS });
    const { url: base } = await app.listen({ host: "127.0.0.1", port: 0 });
    t.teardown(() => app.close({ timeout: 1000 }));
    const token = await tokenOver(base);
    const auth = { authorization: `Bearer ${token}` };
    const json = { "content-type": "application/json", ...auth };
    await (await request(`${base}/authors`, { method: "POST", headers: json, body: '{"name":"Octavia E. Butler"}' })).body.dump();
    for (const title of ["Kindred", "Dawn"]) {
      await (await request(`${base}/books`, { method: "POST", headers: json, body: JSON.stringify({ title, authorId: 1, price: 12.5 }) })).body.dump();
    }
    const other = await openStore(t, { url, poolSize: 1 });

    await t.test("a sale of a book being deleted waits, then is a 404 (not a foreign-key 500)", async (t) => {
      const deletion = await other.begin();
      t.ok(await other.books.delete(deletion.tx, 1));
      const sale = request(`${base}/books/1/sales`, { method: "POST", headers: json, body: '{"quantity":2}' });
      t.ok(await waitingOn("FOR KEY SHARE"), "the sale waits for the deletion");
      await deletion.commit();
      deletion.release();
      const res = await sale;
      t.equal(res.statusCode, 404);
      t.strictSame(await res.body.json(), { detail: "Book not found" });
    });

    await t.test("a cover replaced while another replacement is in flight replaces that one, and its file is removed", async (t) => {
      // The other transaction puts cover A on book 2 (with its file), and has not committed yet.
      const replacing = await other.begin();
      t.equal(await other.covers.find(replacing.tx, 2), undefined);
      await other.covers.put(replacing.tx, { bookId: 2, file: "2-a.png", mediaType: "image/png", size: 8 });
      writeFileSync(join(coversDirectory, "2-a.png"), "a");
      const form = new FormData();
      form.append("cover", new Blob([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])], { type: "image/png" }), "b.png");
      const upload = request(`${base}/books/2/cover`, { method: "PUT", headers: auth, body: form });
      t.ok(await waitingOn("FOR NO KEY UPDATE"), "the upload waits for the other transaction");
      await replacing.commit();
      replacing.release();
      const res = await upload;
      t.equal(res.statusCode, 200);
      await res.body.dump();
      t.ok(await eventually(async () => !(await readdir(coversDirectory)).includes("2-a.png")), "cover A's file is removed: the upload saw A as the cover it replaced");
      t.equal((await readdir(coversDirectory)).length, 1, "only the new cover's file is left");
    });
  });
});
