/**
 * The bookstore's sales and its report task: `POST /books/{id}/sales`, `POST /reports/sales`
 * (202 + status URL, the work done by the task queue), `GET /reports/{id}`; with the worker inside
 * the web process (the default) and with a separate worker on the same SQLite broker.
 */
import t, { type Test } from "tap";
import { join } from "node:path";
import { silentLogger } from "../../../lib/logger.js";
import { createBookstore, type BookstoreOptions } from "../../../examples/bookstore/app.js";
import { createBookstoreTasks, defaultTasksUrl } from "../../../examples/bookstore/tasks.js";
import { resolveStoreLocation, type StoreLocation } from "../../../examples/bookstore/store/store-location.js";
import { Worker } from "../../../lib/tasks/worker/worker.js";
import type { TestResponse } from "../../../lib/test-client.js";
import { AUTH_OPTIONS, READER, tokenOf, WriterClient } from "./auth-client.js";
import { STORES, storeOptions, type StoreVariant } from "./stores.js";

interface ReportStatus {
  id: string;
  state: string;
  statusUrl: string;
  result?: { sales: number; units: number; revenue: number; books: { bookId: number; title: string; units: number; revenue: number }[] };
  error?: { type: string; message: string };
}

/** A started bookstore on `store`, its SQLite file (where tasks.db goes) and where its rows are. */
async function started(
  t: Test,
  store: StoreVariant,
  options: BookstoreOptions = {},
): Promise<{ client: WriterClient; databaseFile: string; location: StoreLocation }> {
  const databaseFile = join(t.testdir(), "books.db");
  const storeOpts = await storeOptions(t, store);
  const location = resolveStoreLocation({ databaseFile, ...storeOpts, defaultFile: databaseFile });
  const app = createBookstore({ databaseFile, logger: silentLogger, ...AUTH_OPTIONS, ...storeOpts, ...options });
  const client = new WriterClient(app);
  await client.start();
  t.teardown(() => client.stop());
  await client.login();
  return { client, databaseFile, location };
}

/** Two books by one author, and sales of both. */
async function seed(t: Test, client: WriterClient): Promise<void> {
  const author = (await client.post("/authors", { json: { name: "Ursula K. Le Guin" } })).json<{ id: number }>();
  const books = [
    { title: "The Dispossessed", price: 12.5 },
    { title: "A Wizard of Earthsea", price: 8.25 },
  ];
  for (const book of books) t.equal((await client.post("/books", { json: { ...book, authorId: author.id } })).status, 201);
  for (const [id, quantity] of [
    [1, 2],
    [2, 3],
    [1, 1],
  ]) {
    const sale = await client.post(`/books/${id}/sales`, { json: { quantity } });
    t.equal(sale.status, 201, sale.text);
  }
}

/** Polls the status URL until the report is ready (bounded). */
async function settled(client: WriterClient, url: string): Promise<ReportStatus> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const res: TestResponse = await client.get(url);
    const status = res.json<ReportStatus>();
    if (["SUCCESS", "FAILURE", "REVOKED"].includes(status.state) || Date.now() > deadline) return status;
    await new Promise((done) => setTimeout(done, 20));
  }
}

for (const store of STORES) {
  t.test(`on ${store.name}`, { skip: store.skip }, async (t) => {
    t.test("a sale is recorded at the book's price; unknown books, bad quantities and anonymous writers are refused", async (t) => {
      const { client } = await started(t, store, { embeddedWorker: false });
      await seed(t, client);
      const sale = await client.post("/books/2/sales", { json: { quantity: 4 } });
      t.equal(sale.status, 201);
      t.match(sale.json(), { bookId: 2, quantity: 4, unitPrice: 8.25 });
      t.equal((await client.post("/books/99/sales", { json: { quantity: 1 } })).status, 404);
      for (const json of [{ quantity: 0 }, { quantity: "2" }, {}, { quantity: 1.5 }, { quantity: 10_001 }]) {
        t.equal((await client.post("/books/1/sales", { json })).status, 422, JSON.stringify(json));
      }
      t.equal((await client.post("/books/1/sales", { json: { quantity: 1 }, headers: { authorization: "" } })).status, 401);
      const reader = await tokenOf(client, READER);
      t.equal((await client.post("/books/1/sales", { json: { quantity: 1 }, headers: { authorization: `Bearer ${reader}` } })).status, 403);
    });

    t.test("POST /reports/sales answers 202 with a status URL; the worker in the process builds the report", async (t) => {
      const { client } = await started(t, store);
      await seed(t, client);
      const accepted = await client.post("/reports/sales?top=1");
      t.equal(accepted.status, 202);
      const body = accepted.json<ReportStatus>();
      t.match(body.id, /^[0-9a-f-]{36}$/);
      t.equal(body.state, "PENDING");
      t.equal(body.statusUrl, `/reports/${body.id}`);
      t.equal(accepted.headers.location, body.statusUrl);
      const done = await settled(client, body.statusUrl);
      t.equal(done.state, "SUCCESS", JSON.stringify(done));
      t.match(done.result, { sales: 3, units: 6, revenue: 62.25 });
      // top=1: only the best seller by revenue (3 × 12.50 = 37.50 against 3 × 8.25 = 24.75).
      t.same(done.result?.books, [{ bookId: 1, title: "The Dispossessed", units: 3, revenue: 37.5 }]);
    });

    t.test("reports: anonymous, bad ids and bad parameters are refused; an unknown id is PENDING", async (t) => {
      const { client } = await started(t, store, { embeddedWorker: false });
      t.equal((await client.post("/reports/sales", { headers: { authorization: "" } })).status, 401);
      for (const top of ["0", "101", "x"]) t.equal((await client.post(`/reports/sales?top=${top}`)).status, 422, top);
      for (const id of ["1", "not-a-uuid", "00000000-0000-0000-0000-00000000000g"]) t.equal((await client.get(`/reports/${id}`)).status, 422, id);
      const unknown = await client.get("/reports/00000000-0000-4000-8000-000000000000");
      t.equal(unknown.status, 200);
      t.equal(unknown.json<ReportStatus>().state, "PENDING");
    });

    t.test("without the embedded worker the report waits in the broker until a separate worker runs it", async (t) => {
      const { client, databaseFile, location } = await started(t, store, { embeddedWorker: false });
      await seed(t, client);
      const { statusUrl } = (await client.post("/reports/sales")).json<ReportStatus>();
      await new Promise((done) => setTimeout(done, 100));
      t.equal((await client.get(statusUrl)).json<ReportStatus>().state, "PENDING", "nobody ran it");
      // What `laminar worker dist/examples/bookstore/worker.js` does, in this process: the same file, another queue object.
      const tasks = createBookstoreTasks({ database: location, url: defaultTasksUrl(databaseFile) });
      const worker = new Worker(tasks.queue, { queues: ["reports"], concurrency: 1, logger: silentLogger });
      worker.start();
      t.teardown(async () => {
        await worker.stop({ gracefulTimeoutMs: 1000 });
        await tasks.queue.close();
      });
      const done = await settled(client, statusUrl);
      t.equal(done.state, "SUCCESS");
      t.match(done.result, { sales: 3, units: 6 });
    });
  });
}
