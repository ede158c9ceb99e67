/**
 * The bookstore's CRUD routes, validation, pagination, concurrent writes and transactions, on
 * every store (SQLite, and PostgreSQL when it runs: see `stores.ts`).
 */
import t, { type Test } from "tap";
import { join } from "node:path";
import { request } from "undici";
import { TestClient, silentLogger, App, HttpException } from "../../../lib/index.js";
import { createBookstore } from "../../../examples/bookstore/app.js";
import { inTransaction, provideStore, transaction } from "../../../examples/bookstore/dependencies.js";
import { AuthorRepository } from "../../../examples/bookstore/store/contracts.js";
import { createStore, resolveStoreLocation } from "../../../examples/bookstore/store/store-location.js";
import { SqliteStore } from "../../../examples/bookstore/store/sqlite-store.js";
import { PostgresStore } from "../../../examples/bookstore/store/postgres-store.js";
import { AUTH_OPTIONS, tokenOver, WriterClient } from "./auth-client.js";
import { STORES, storeOptions, type StoreVariant } from "./stores.js";

type Issue = { loc: Array<string | number>; type: string };

/** A started bookstore on `store` and a client logged in as a writer (writes carry its token). */
async function started(t: Test, store: StoreVariant): Promise<WriterClient> {
  const app = createBookstore({ databaseFile: join(t.testdir(), "books.db"), logger: silentLogger, ...AUTH_OPTIONS, ...(await storeOptions(t, store)) });
  const client = new WriterClient(app);
  await client.start();
  t.teardown(() => client.stop());
  return client.login();
}

async function author(client: TestClient, name = "Frank Herbert"): Promise<number> {
  const res = await client.post("/authors", { json: { name } });
  return res.json<{ id: number }>().id;
}

for (const store of STORES) {
  t.test(`on ${store.name}`, { skip: store.skip }, async (t) => {
    t.test("health", async (t) => {
      const client = await started(t, store);
      const res = await client.get("/health");
      t.equal(res.status, 200);
      t.strictSame(res.json(), { status: "ok" });
    });

    t.test("authors are created with 201", async (t) => {
      const client = await started(t, store);
      const res = await client.post("/authors", { json: { name: "Ursula K. Le Guin", extra: true } });
      t.equal(res.status, 201);
      t.strictSame(res.json(), { id: 1, name: "Ursula K. Le Guin" });
      t.equal((await client.post("/authors", { json: { name: "" } })).status, 422);
    });

    t.test("create, read, list and delete a book", async (t) => {
      const client = await started(t, store);
      const authorId = await author(client);
      const created = await client.post("/books", {
        json: { title: "Dune", authorId, price: 9.99, tags: ["sf", "classic"], isbn: "not echoed" },
      });
      t.equal(created.status, 201);
      const book = created.json<Record<string, unknown>>();
      t.match(book, { id: 1, title: "Dune", authorId, price: 9.99, tags: ["sf", "classic"] });
      t.match(book.createdAt, /^\d{4}-\d\d-\d\dT/);
      t.notOk("isbn" in book, "unknown fields are not echoed back");

      t.strictSame((await client.get("/books/1")).json(), book);
      t.strictSame((await client.get("/books")).json(), [book]);

      const deleted = await client.delete("/books/1");
      t.equal(deleted.status, 204);
      t.equal(deleted.text, "");
      const gone = await client.get("/books/1");
      t.equal(gone.status, 404);
      t.strictSame(gone.json(), { detail: "Book not found" });
      t.equal((await client.delete("/books/1")).status, 404);
    });

    t.test("prices, tags and titles come back exactly as sent, however odd", async (t) => {
      const client = await started(t, store);
      const authorId = await author(client, "Ørjan \"O'Brien\" \\ Ñ");
      const odd = [
        { title: "Float noise", price: 0.1 + 0.2, tags: [] },
        { title: "Tiny", price: 1e-7, tags: ["a,b", '{"x"}', "NULL"] },
        { title: "Huge", price: 123456789.123, tags: ["back\\slash", "quote\"d", "  spaced  "] },
        { title: "Zero; DROP TABLE books; --", price: 0, tags: ["日本語", "emoji 📚", "null"] },
      ];
      for (const book of odd) {
        const created = await client.post("/books", { json: { ...book, authorId } });
        t.equal(created.status, 201, book.title);
        const read = (await client.get(`/books/${created.json<{ id: number }>().id}`)).json<typeof book>();
        t.strictSame([read.title, read.price, read.tags], [book.title, book.price, book.tags], book.title);
      }
      for (const tag of ["a,b", '{"x"}', "NULL", "back\\slash", "quote\"d", "  spaced  ", "日本語", "null"]) {
        const found = (await client.get(`/books?tag=${encodeURIComponent(tag)}`)).json<Array<{ title: string }>>();
        t.equal(found.length, 1, `exactly one book has the tag ${JSON.stringify(tag)}`);
      }
      t.strictSame((await client.get("/books?tag=a")).json(), [], "a tag matches whole, not as a part of another");
      t.strictSame((await client.get(`/books?tag=${encodeURIComponent("%")}`)).json(), [], "no pattern matching");
    });

    t.test("an unknown author is a 422 at body.authorId, and nothing is stored", async (t) => {
      const client = await started(t, store);
      const res = await client.post("/books", { json: { title: "Orphan", authorId: 99, price: 1 } });
      t.equal(res.status, 422);
      t.strictSame(res.json<{ detail: Issue[] }>().detail[0]!.loc, ["body", "authorId"]);
      t.strictSame((await client.get("/books")).json(), []);
    });

    t.test("book validation: every error, FastAPI-shaped", async (t) => {
      const client = await started(t, store);
      const res = await client.post("/books", {
        json: { title: "", authorId: 0, price: -1, tags: Array.from({ length: 11 }, (_, i) => `t${i}`) },
      });
      t.equal(res.status, 422);
      const locs = res.json<{ detail: Issue[] }>().detail.map((i) => i.loc.join("."));
      for (const loc of ["body.title", "body.authorId", "body.price", "body.tags"]) t.ok(locs.includes(loc), loc);
      const missing = await client.post("/books", { json: { title: "x" } });
      t.strictSame(
        missing
          .json<{ detail: Issue[] }>()
          .detail.filter((i) => i.type === "missing")
          .map((i) => i.loc.join(".")),
        ["body.authorId", "body.price"],
      );
    });

    t.test("a non-integer id is a 422 at path.id", async (t) => {
      const client = await started(t, store);
      for (const id of ["abc", "1.5", "0"]) {
        const res = await client.get(`/books/${id}`);
        t.equal(res.status, 422, id);
        t.strictSame(res.json<{ detail: Issue[] }>().detail[0]!.loc, ["path", "id"], id);
      }
    });

    t.test("listing: limit, offset and tag, with bounds", async (t) => {
      const client = await started(t, store);
      const authorId = await author(client);
      for (let i = 1; i <= 25; i++) {
        await client.post("/books", { json: { title: `Book ${i}`, authorId, price: i, tags: i % 5 === 0 ? ["five"] : [] } });
      }
      t.equal((await client.get("/books")).json<unknown[]>().length, 20, "default limit 20");
      const page = (await client.get("/books?limit=5&offset=10")).json<Array<{ title: string }>>();
      t.strictSame(
        page.map((b) => b.title),
        ["Book 11", "Book 12", "Book 13", "Book 14", "Book 15"],
      );
      const fives = (await client.get("/books?tag=five")).json<Array<{ title: string }>>();
      t.strictSame(
        fives.map((b) => b.title),
        ["Book 5", "Book 10", "Book 15", "Book 20", "Book 25"],
      );
      for (const query of ["limit=0", "limit=101", "offset=-1", "limit=ten"]) {
        t.equal((await client.get(`/books?${query}`)).status, 422, query);
      }
    });

    t.test("concurrent writes take turns: every insert commits, ids are unique", async (t) => {
      const client = await started(t, store);
      const authorId = await author(client);
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, i) => client.post("/books", { json: { title: `C${i}`, authorId, price: 1 } })),
      );
      t.strictSame(
        results.map((r) => r.status),
        Array(30).fill(201),
      );
      t.equal(new Set(results.map((r) => r.json<{ id: number }>().id)).size, 30);
      t.equal((await client.get("/books?limit=100")).json<unknown[]>().length, 30);
    });

    t.test("the transaction rolls back when the handler throws, and commits otherwise", async (t) => {
      const location = resolveStoreLocation({ databaseFile: join(t.testdir(), "tx.db"), ...(await storeOptions(t, store)), defaultFile: "unused" });
      const db = createStore(location, silentLogger);
      await db.open();
      t.teardown(() => db.close());
      const app = new App({ logger: silentLogger });
      provideStore(app, db);
      app.post("/fail", { deps: { tx: transaction, authors: AuthorRepository } }, async ({ deps }) => {
        await deps.authors.create(deps.tx, "written then undone");
        throw new HttpException(409, "changed my mind");
      });
      app.post("/ok", { deps: { tx: transaction, authors: AuthorRepository } }, ({ deps }) => deps.authors.create(deps.tx, "kept"));
      const client = new TestClient(app);
      t.equal((await client.post("/fail")).status, 409);
      t.equal((await client.post("/ok")).status, 200);
      const kept = await inTransaction(db, async (tx) => [await db.authors.exists(tx, 1), await db.authors.exists(tx, 2)]);
      // SQLite reuses the rolled-back id; a PostgreSQL sequence does not (nextval is not transactional).
      t.strictSame(kept, store.name === "sqlite" ? [true, false] : [false, true], "only the committed author is stored");
      if (db instanceof SqliteStore) t.notOk(db.database.writer.inTransaction, "no transaction left open");
      if (db instanceof PostgresStore) t.match(db.stats(), { total: 1, idle: 1, waiting: 0 }, "the client went back to the pool");
    });

    t.test("over a real socket", async (t) => {
      const app = createBookstore({ databaseFile: join(t.testdir(), "socket.db"), logger: silentLogger, ...AUTH_OPTIONS, ...(await storeOptions(t, store)) });
      const address = await app.listen({ host: "127.0.0.1", port: 0 });
      t.teardown(() => app.close());
      const token = await tokenOver(address.url);
      const health = await request(`${address.url}/health`);
      t.equal(health.statusCode, 200);
      t.strictSame(await health.body.json(), { status: "ok" });
      const bad = await request(`${address.url}/books`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: "{not json",
      });
      t.equal(bad.statusCode, 422);
      await bad.body.dump();
      const after = await request(`${address.url}/books`);
      t.equal(after.statusCode, 200, "still serving after bad input");
      t.strictSame(await after.body.json(), []);
    });
  });
}
