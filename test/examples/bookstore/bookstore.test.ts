import t, { type Test } from "tap";
import { join } from "node:path";
import { request } from "undici";
import { TestClient, silentLogger, App, HttpException } from "../../../lib/index.js";
import { createBookstore } from "../../../examples/bookstore/app.js";
import { transaction } from "../../../examples/bookstore/dependencies.js";
import { BookstoreDatabase } from "../../../examples/bookstore/database.js";
import { AuthorRepository, BookRepository } from "../../../examples/bookstore/repositories.js";
import { AUTH_OPTIONS, tokenOver, WriterClient } from "./auth-client.js";

type Issue = { loc: Array<string | number>; type: string };

/** A started bookstore and a client logged in as a writer (writes carry its token). */
async function started(t: Test): Promise<WriterClient> {
  const app = createBookstore({ databaseFile: join(t.testdir(), "books.db"), logger: silentLogger, ...AUTH_OPTIONS });
  const client = new WriterClient(app);
  await client.start();
  t.teardown(() => client.stop());
  return client.login();
}

async function author(client: TestClient, name = "Frank Herbert"): Promise<number> {
  const res = await client.post("/authors", { json: { name } });
  return res.json<{ id: number }>().id;
}

t.test("health", async (t) => {
  const client = await started(t);
  const res = await client.get("/health");
  t.equal(res.status, 200);
  t.strictSame(res.json(), { status: "ok" });
});

t.test("authors are created with 201", async (t) => {
  const client = await started(t);
  const res = await client.post("/authors", { json: { name: "Ursula K. Le Guin", extra: true } });
  t.equal(res.status, 201);
  t.strictSame(res.json(), { id: 1, name: "Ursula K. Le Guin" });
  t.equal((await client.post("/authors", { json: { name: "" } })).status, 422);
});

t.test("create, read, list and delete a book", async (t) => {
  const client = await started(t);
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

t.test("an unknown author is a 422 at body.authorId, and nothing is stored", async (t) => {
  const client = await started(t);
  const res = await client.post("/books", { json: { title: "Orphan", authorId: 99, price: 1 } });
  t.equal(res.status, 422);
  t.strictSame(res.json<{ detail: Issue[] }>().detail[0]!.loc, ["body", "authorId"]);
  t.strictSame((await client.get("/books")).json(), []);
});

t.test("book validation: every error, FastAPI-shaped", async (t) => {
  const client = await started(t);
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
  const client = await started(t);
  for (const id of ["abc", "1.5", "0"]) {
    const res = await client.get(`/books/${id}`);
    t.equal(res.status, 422, id);
    t.strictSame(res.json<{ detail: Issue[] }>().detail[0]!.loc, ["path", "id"], id);
  }
});

t.test("listing: limit, offset and tag, with bounds", async (t) => {
  const client = await started(t);
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
  const client = await started(t);
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
  const db = new BookstoreDatabase(join(t.testdir(), "tx.db"));
  db.open();
  t.teardown(() => db.close());
  const app = new App({ logger: silentLogger });
  app.provideValue(BookstoreDatabase, db);
  app.provide(AuthorRepository);
  app.provide(BookRepository);
  app.post("/fail", { deps: { tx: transaction, authors: AuthorRepository } }, ({ deps }) => {
    deps.authors.create(deps.tx, "written then undone");
    throw new HttpException(409, "changed my mind");
  });
  app.post("/ok", { deps: { tx: transaction, authors: AuthorRepository } }, ({ deps }) => deps.authors.create(deps.tx, "kept"));
  const client = new TestClient(app);
  t.equal((await client.post("/fail")).status, 409);
  t.equal((await client.post("/ok")).status, 200);
  const names = db.reader.prepare("SELECT name FROM authors ORDER BY id").all() as Array<{ name: string }>;
  t.strictSame(
    names.map((r) => r.name),
    ["kept"],
  );
  t.notOk(db.writer.inTransaction, "no transaction left open");
});

t.test("over a real socket", async (t) => {
  const app = createBookstore({ databaseFile: join(t.testdir(), "socket.db"), logger: silentLogger, ...AUTH_OPTIONS });
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
