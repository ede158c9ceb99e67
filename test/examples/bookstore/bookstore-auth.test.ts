/**
 * The bookstore's users and tokens: logging in (password form → bearer JWT), writes refused
 * without a token (401), with a token lacking books:write (403), with an expired or forged one
 * (401); reads open; the demo user from BOOKSTORE_DEMO_USER; the random-key warning; and no
 * password or token in any log line or error body.
 */
import t, { type Test } from "tap";
import { join } from "node:path";
import { pino } from "pino";
import { silentLogger } from "../../../lib/index.js";
import { TestClient } from "../../../lib/test-client.js";
import { createBookstore, type BookstoreOptions } from "../../../examples/bookstore/app.js";
import { signJwt } from "../../../lib/security/jwt-hs256.js";
import { AUTH_OPTIONS, FORM_HEADERS, passwordForm, READER, TOKEN_KEY, tokenOf, WRITER } from "./auth-client.js";
import { STORES, storeOptions, type StoreVariant } from "./stores.js";

async function started(t: Test, store: StoreVariant, options: BookstoreOptions = {}): Promise<TestClient> {
  const app = createBookstore({ databaseFile: join(t.testdir(), "books.db"), logger: silentLogger, ...AUTH_OPTIONS, ...(await storeOptions(t, store)), ...options });
  const client = new TestClient(app);
  await client.start();
  t.teardown(() => client.stop());
  return client;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

for (const store of STORES) {
  t.test(`on ${store.name}`, { skip: store.skip }, async (t) => {
    t.test("log in, then write; reads need nothing", async (t) => {
      const client = await started(t, store);
      const login = await client.post("/token", { headers: FORM_HEADERS, body: passwordForm(WRITER.username, WRITER.password) });
      t.equal(login.status, 200);
      t.equal(login.headers["cache-control"], "no-store", "RFC 6749 §5.1");
      const body = login.json<{ access_token: string; token_type: string; expires_in: number; scope: string }>();
      t.match(body, { token_type: "bearer", expires_in: 1800, scope: "books:write" });
      t.match(body.access_token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
      const created = await client.post("/authors", { json: { name: "Le Guin" }, headers: bearer(body.access_token) });
      t.equal(created.status, 201);
      t.equal((await client.get("/books")).status, 200, "reads stay open");
      t.equal((await client.get("/health")).status, 200);
    });

    t.test("wrong password and unknown user: the same 400", async (t) => {
      const client = await started(t, store);
      for (const [username, password] of [
        [WRITER.username, "wrong"],
        [WRITER.username, WRITER.password + " "],
        ["nobody", WRITER.password],
      ] as const) {
        const res = await client.post("/token", { headers: FORM_HEADERS, body: passwordForm(username, password) });
        t.equal(res.status, 400, username);
        t.strictSame(res.json(), { detail: "Incorrect username or password" });
      }
      t.equal((await client.post("/token", { json: { username: WRITER.username, password: WRITER.password } })).status, 415, "JSON is not the password grant");
      t.equal((await client.post("/token", { headers: FORM_HEADERS, body: "username=writer" })).status, 422);
    });

    t.test("writes: no token 401, a reader's token 403, every write route", async (t) => {
      const client = await started(t, store);
      const readerToken = await tokenOf(client, READER);
      const writes: Array<[string, "post" | "delete", unknown]> = [
        ["/authors", "post", { name: "x" }],
        ["/books", "post", { title: "x", authorId: 1, price: 1 }],
        ["/books/1", "delete", undefined],
      ];
      for (const [path, method, json] of writes) {
        const none = await client[method](path, { json });
        t.equal(none.status, 401, `${method} ${path} without a token`);
        t.equal(none.headers["www-authenticate"], "Bearer");
        const reader = await client[method](path, { json, headers: bearer(readerToken) });
        t.equal(reader.status, 403, `${method} ${path} with a reader's token`);
        t.equal(reader.headers["www-authenticate"], 'Bearer error="insufficient_scope", scope="books:write"');
      }
      t.strictSame((await client.get("/books")).json(), [], "nothing was written");
    });

    t.test("scopes asked for are granted only when the user holds them", async (t) => {
      const client = await started(t, store);
      const asked = await client.post("/token", { headers: FORM_HEADERS, body: passwordForm(READER.username, READER.password, "books:write") });
      t.equal(asked.json<{ scope: string }>().scope, "", "a reader asking for books:write does not get it");
      const token = asked.json<{ access_token: string }>().access_token;
      t.equal((await client.post("/authors", { json: { name: "x" }, headers: bearer(token) })).status, 403);
      const narrowed = await client.post("/token", { headers: FORM_HEADERS, body: passwordForm(WRITER.username, WRITER.password, "other") });
      t.equal(narrowed.json<{ scope: string }>().scope, "", "a writer asking only for another scope gets no books:write");
    });

    t.test("expired, forged and malformed tokens are 401 invalid_token", async (t) => {
      let now = 1_800_000_000_000;
      const client = await started(t, store, { now: () => now, tokenTtl: 60 });
      const token = await tokenOf(client);
      t.equal((await client.post("/authors", { json: { name: "in time" }, headers: bearer(token) })).status, 201);
      now += 60_000;
      const expired = await client.post("/authors", { json: { name: "late" }, headers: bearer(token) });
      t.equal(expired.status, 401);
      t.equal(expired.headers["www-authenticate"], 'Bearer error="invalid_token", scope="books:write"');
      const forged = signJwt({ sub: "writer", scopes: ["books:write"] }, "another-key-of-at-least-32-bytes!!", { expiresIn: 60, now: () => now });
      t.equal((await client.post("/authors", { json: { name: "x" }, headers: bearer(forged) })).status, 401);
      const noScopes = signJwt({ sub: "writer" }, TOKEN_KEY, { expiresIn: 60, now: () => now });
      t.equal((await client.post("/authors", { json: { name: "x" }, headers: bearer(noScopes) })).status, 401, "a token without a scopes claim");
      t.equal((await client.post("/authors", { json: { name: "x" }, headers: { authorization: "Bearer not a token" } })).status, 401);
    });

    t.test("the demo user comes from BOOKSTORE_DEMO_USER only; a missing key is a warning", async (t) => {
      const lines: Array<Record<string, unknown>> = [];
      const logger = pino({ level: "info", base: null }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
      const saved = process.env.BOOKSTORE_DEMO_USER;
      const savedKey = process.env.BOOKSTORE_TOKEN_KEY;
      t.teardown(() => {
        if (saved === undefined) delete process.env.BOOKSTORE_DEMO_USER;
        else process.env.BOOKSTORE_DEMO_USER = saved;
        if (savedKey === undefined) delete process.env.BOOKSTORE_TOKEN_KEY;
        else process.env.BOOKSTORE_TOKEN_KEY = savedKey;
      });
      delete process.env.BOOKSTORE_TOKEN_KEY;
      process.env.BOOKSTORE_DEMO_USER = "demo:pa:ss";
      const demo = await started(t, store, { users: undefined, tokenKey: undefined, logger });
      const login = await demo.post("/token", { headers: FORM_HEADERS, body: passwordForm("demo", "pa:ss") });
      t.equal(login.status, 200, "password split at the first colon");
      t.ok(lines.some((l) => l.level === 40 && /BOOKSTORE_TOKEN_KEY/.test(String(l.msg))), "the random key is announced");
      t.equal((await demo.post("/authors", { json: { name: "x" }, headers: bearer(login.json<{ access_token: string }>().access_token) })).status, 201);

      delete process.env.BOOKSTORE_DEMO_USER;
      const none = await started(t, store, { users: undefined });
      t.equal((await none.post("/token", { headers: FORM_HEADERS, body: passwordForm("demo", "pa:ss") })).status, 400, "no default user");
      t.throws(() => createBookstore({ databaseFile: join(t.testdir(), "k.db"), logger: silentLogger, tokenKey: "short" }), TypeError, "a short key fails at creation");
    });

    t.test("no password or token in a log line or an error body", async (t) => {
      const lines: string[] = [];
      const logger = pino({ level: "debug", base: null }, { write: (s: string) => void lines.push(s) });
      const client = await started(t, store, { logger });
      const bodies: string[] = [];
      const token = await tokenOf(client);
      const attempts = [
        await client.post("/token", { headers: FORM_HEADERS, body: passwordForm(WRITER.username, "Pr1vate-Guess") }),
        await client.post("/token", { headers: FORM_HEADERS, body: `username=writer&password=${encodeURIComponent(WRITER.password)}&password=Pr1vate-Guess` }),
        await client.post("/authors", { json: { name: "x" }, headers: { authorization: "Bearer Forged-T0ken.value" } }),
        await client.post("/authors", { json: { name: "x" }, headers: { authorization: "Bearer Forged T0ken" } }),
        await client.post("/authors", { json: {}, headers: bearer(token) }),
        await client.post("/authors?access_token=Query-T0ken", { json: { name: "y" }, headers: bearer(token) }),
      ];
      for (const res of attempts) bodies.push(res.text);
      t.ok(lines.length >= attempts.length, "the access log wrote lines");
      for (const secret of [WRITER.password, "Pr1vate-Guess", "Forged", "T0ken", token, token.split(".")[2]!]) {
        t.notOk(lines.some((line) => line.includes(secret)), `no log line contains ${secret.slice(0, 12)}…`);
        t.notOk(bodies.some((body) => body.includes(secret)), `no error body contains ${secret.slice(0, 12)}…`);
      }
    });
  });
}
