/**
 * The bookstore served by uWebSockets.js (`server: "uws"`), over real sockets with undici.
 * Skipped when the uWebSockets.js binary cannot load here.
 */
import t from "tap";
import { join } from "node:path";
import { request } from "undici";
import { silentLogger } from "../../../lib/index.js";
import { createBookstore } from "../../../examples/bookstore/app.js";
import { loadUws } from "../../../layers/server/uws-load.js";
import { UwsUnavailableError } from "../../../lib/errors.js";
import { AUTH_OPTIONS, tokenOver } from "./auth-client.js";
import { STORES, storeOptions } from "./stores.js";

let unavailable: string | null = null;
try {
  loadUws();
} catch (err) {
  unavailable = (err as Error).message;
}

t.test("a missing binary is a catalogued error naming the fallback", async (t) => {
  t.throws(() => loadUws("uWebSockets.js-not-installed"), UwsUnavailableError);
  try {
    loadUws("uWebSockets.js-not-installed");
  } catch (err) {
    t.match(err, { code: "LMR_ERR_UWS_UNAVAILABLE", message: /uWebSockets\.js could not be loaded \(Cannot find module .*node:http/s });
  }
});

for (const store of STORES) {
  t.test(`bookstore over uWS, ${store.name}`, { skip: unavailable === null ? store.skip : `uWebSockets.js unavailable: ${unavailable}` }, async (t) => {
    const app = createBookstore({ databaseFile: join(t.testdir(), "books.db"), logger: silentLogger, server: "uws", ...AUTH_OPTIONS, ...(await storeOptions(t, store)) });
    const { url } = await app.listen({ host: "127.0.0.1", port: 0 });
    t.teardown(() => app.close({ timeout: 0 }));
    const health = await request(`${url}/health`);
    t.equal(health.statusCode, 200);
    t.same(await health.body.json(), { status: "ok" });
    t.notOk(health.headers["x-powered-by"], "no stray headers");
    const token = await tokenOver(url);

    const created = await request(`${url}/authors`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ name: "Frank Herbert" }),
    });
    t.equal(created.statusCode, 201);
    const author = (await created.body.json()) as { id: number; name: string };
    t.equal(author.name, "Frank Herbert");

    const invalid = await request(`${url}/authors`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: '{"name": ',
    });
    t.equal(invalid.statusCode, 422, "a broken JSON body is a validation error, read through uWS onData");
    await invalid.body.dump();

    const missing = await request(`${url}/books/999999`);
    t.equal(missing.statusCode, 404);
    t.match(await missing.body.json(), { detail: String });

    const list = await request(`${url}/books`);
    t.equal(list.statusCode, 200);
    await list.body.dump();
  });
}
