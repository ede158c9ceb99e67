/**
 * The bookstore's middleware and lifespan over a real socket: request IDs echoed and in the access
 * log, CORS for the allowed front-end origin only, large lists compressed, and a database that
 * cannot be opened failing the startup before anything is served.
 */
import t from "tap";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { pino } from "pino";
import { request } from "undici";
import { silentLogger } from "../../../lib/index.js";
import { createBookstore } from "../../../examples/bookstore/app.js";
import { AUTH_OPTIONS, tokenOver } from "./auth-client.js";
import { STORES, storeOptions } from "./stores.js";

type Line = Record<string, unknown>;

for (const store of STORES) {
  t.test(`on ${store.name}`, { skip: store.skip }, async (t) => {
    t.test("request ID, access log, CORS and compression on the bookstore", async (t) => {
      const lines: Line[] = [];
      const logger = pino({ level: "info", base: null }, { write: (s: string) => void lines.push(JSON.parse(s) as Line) });
      const app = createBookstore({
        databaseFile: join(t.testdir(), "books.db"),
        logger,
        corsOrigins: ["https://shop.example"],
        ...AUTH_OPTIONS,
        ...(await storeOptions(t, store)),
      });
      const { url } = await app.listen({ host: "127.0.0.1", port: 0 });
      t.teardown(() => app.close({ timeout: 1_000 }));
      const authorization = `Bearer ${await tokenOver(url)}`;

      const created = await request(`${url}/authors`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-request-id": "trace-7", origin: "https://shop.example", authorization },
        body: JSON.stringify({ name: "Ursula K. Le Guin" }),
      });
      t.equal(created.statusCode, 201);
      t.equal(created.headers["x-request-id"], "trace-7", "the ID is echoed");
      t.equal(created.headers["access-control-allow-origin"], "https://shop.example");
      t.match(String(created.headers["access-control-expose-headers"]), /x-request-id/i, "a browser script may read the ID");
      const { id: authorId } = (await created.body.json()) as { id: number };
      const line = lines.find((l) => l.requestId === "trace-7");
      t.ok(line, "the access log line carries the request ID");
      t.match(line, { method: "POST", path: "/authors", status: 201 });

      const preflight = await request(`${url}/books`, {
        method: "OPTIONS",
        headers: { origin: "https://shop.example", "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
      });
      await preflight.body.dump();
      t.equal(preflight.statusCode, 200);
      t.equal(preflight.headers["access-control-max-age"], "600");
      const refused = await request(`${url}/books`, {
        method: "OPTIONS",
        headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
      });
      await refused.body.dump();
      t.equal(refused.statusCode, 400, "a preflight from another origin is refused");
      t.equal(refused.headers["access-control-allow-origin"], undefined);

      for (let i = 0; i < 40; i++) {
        const res = await request(`${url}/books`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization },
          body: JSON.stringify({ title: `Earthsea volume ${i}`, authorId, price: 9.5, tags: ["fantasy", "classic"] }),
        });
        t.equal(res.statusCode, 201);
        await res.body.dump();
      }
      const list = await request(`${url}/books?limit=100`, { headers: { "accept-encoding": "gzip" } });
      t.equal(list.headers["content-encoding"], "gzip", "a large list is compressed");
      const books = JSON.parse(gunzipSync(Buffer.from(await list.body.arrayBuffer())).toString()) as unknown[];
      t.equal(books.length, 40);
      const small = await request(`${url}/health`, { headers: { "accept-encoding": "gzip" } });
      t.equal(small.headers["content-encoding"], undefined, "a small body is not");
      t.strictSame(await small.body.json(), { status: "ok" });
    });
  });
}

t.test("a SQLite database that cannot be opened fails the startup, naming the file: nothing is served", async (t) => {
  // The database's directory is a regular file: SQLite cannot create the database there.
  const blocker = join(t.testdir(), "not-a-directory");
  writeFileSync(blocker, "");
  const app = createBookstore({ databaseFile: join(blocker, "books.db"), logger: silentLogger });
  await t.rejects(app.listen({ host: "127.0.0.1", port: 0 }), /startup failed: cannot open the bookstore's SQLite database .*not-a-directory/);
});
