/**
 * requireScopes: a verified token with every scope passes; no token, an invalid token, and a
 * token missing a scope get RFC 6750's answers (401 invalid_token, 403 insufficient_scope, each
 * naming the required scopes); verify sees its own dependencies; the OpenAPI document lists the
 * scopes; the whole flow over real sockets on node:http and uWS.
 */
import t from "tap";
import { request } from "undici";
import { App } from "../../../lib/app.js";
import { silentLogger } from "../../../lib/logger.js";
import { TestClient } from "../../../lib/test-client.js";
import { HttpException } from "../../../lib/errors.js";
import { dependency } from "../../../layers/di/dependency.js";
import { loadUws } from "../../../layers/server/uws-load.js";
import { oauth2PasswordBearer } from "../../../lib/security/oauth2-password-bearer.js";
import { httpBearer } from "../../../lib/security/http-bearer.js";
import { requireScopes } from "../../../lib/security/require-scopes.js";

let uwsMissing: string | false = false;
try {
  loadUws();
} catch (error) {
  uwsMissing = `uWebSockets.js unavailable: ${(error as Error).message}`;
}

// Tokens of this test: "user-<scope>,<scope>"; anything else does not verify.
const TOKENS: Record<string, { name: string; scopes: string[] }> = {
  reader: { name: "rita", scopes: ["books:read"] },
  writer: { name: "will", scopes: ["books:read", "books:write"] },
  nobody: { name: "nora", scopes: [] },
};

function bookApp(server?: "node" | "uws"): { app: App; oauth2: ReturnType<typeof oauth2PasswordBearer> } {
  const app = new App({ logger: silentLogger, server });
  const oauth2 = oauth2PasswordBearer({ tokenUrl: "token", scopes: { "books:read": "Read books", "books:write": "Change books" } });
  const verify = (token: string) => TOKENS[token];
  const reader = requireScopes(oauth2, ["books:read"], verify);
  const writer = requireScopes(oauth2, ["books:read", "books:write"], verify);
  app.get("/books", { deps: { user: reader } }, ({ deps }) => ({ user: deps.user.name }));
  app.post("/books", { deps: { user: writer } }, ({ deps }) => ({ user: deps.user.name, scopes: deps.user.scopes }));
  app.get("/open", () => ({ open: true }));
  return { app, oauth2 };
}

const auth = (token: string) => ({ authorization: `Bearer ${token}` });

t.test("enough scopes pass; the principal is what verify returned", async (t) => {
  const c = new TestClient(bookApp().app);
  t.strictSame((await c.get("/books", { headers: auth("reader") })).json(), { user: "rita" });
  t.strictSame((await c.get("/books", { headers: auth("writer") })).json(), { user: "will" });
  t.strictSame((await c.post("/books", { headers: auth("writer") })).json(), { user: "will", scopes: ["books:read", "books:write"] });
});

t.test("insufficient scope: 403 insufficient_scope naming every required scope", async (t) => {
  const c = new TestClient(bookApp().app);
  for (const [token, path, method, scope] of [
    ["reader", "/books", "post", "books:read books:write"],
    ["nobody", "/books", "get", "books:read"],
  ] as const) {
    const res = await c[method](path, { headers: auth(token) });
    t.equal(res.status, 403, `${token} ${method} ${path}`);
    t.equal(res.headers["www-authenticate"], `Bearer error="insufficient_scope", scope="${scope}"`);
    t.strictSame(res.json(), { detail: "Not enough permissions" });
  }
});

t.test("invalid, malformed and missing tokens: 401, never echoed", async (t) => {
  const c = new TestClient(bookApp().app);
  const invalid = await c.post("/books", { headers: auth("forged-token") });
  t.equal(invalid.status, 401);
  t.equal(invalid.headers["www-authenticate"], 'Bearer error="invalid_token", scope="books:read books:write"');
  t.strictSame(invalid.json(), { detail: "Invalid authentication credentials" });
  t.notMatch(invalid.text, /forged/);
  const missing = await c.post("/books");
  t.equal(missing.status, 401);
  t.equal(missing.headers["www-authenticate"], "Bearer", "the scheme's own answer: nothing was sent");
  const malformed = await c.post("/books", { headers: { authorization: "Bearer two words" } });
  t.equal(malformed.status, 401);
  t.equal(malformed.headers["www-authenticate"], 'Bearer error="invalid_token"');
  t.equal((await c.get("/open")).status, 200, "routes without the dependency stay open");
});

t.test("verify: async, with its own dependencies and the required scopes; its HttpExceptions pass through", async (t) => {
  const app = new App({ logger: silentLogger });
  const oauth2 = oauth2PasswordBearer({ tokenUrl: "token", autoError: false, scopes: { admin: "Administer" } });
  const users = dependency({}, () => new Map([["t1", { id: 1, scopes: ["admin"] }]]));
  const seen: unknown[] = [];
  const admin = requireScopes(
    oauth2,
    ["admin", "admin"],
    async (token, { deps, requiredScopes }) => {
      seen.push(requiredScopes);
      if (token === "banned") throw new HttpException(423, "Account locked");
      return deps.users.get(token);
    },
    { users },
  );
  app.get("/admin", { deps: { user: admin } }, ({ deps }) => ({ id: deps.user.id }));
  const c = new TestClient(app);
  t.strictSame((await c.get("/admin", { headers: auth("t1") })).json(), { id: 1 });
  t.strictSame(seen, [["admin"]], "duplicates dropped");
  t.equal((await c.get("/admin", { headers: auth("banned") })).status, 423);
  const none = await c.get("/admin");
  t.equal(none.status, 401, "an optional scheme's missing token is still a 401 here");
  t.equal(none.headers["www-authenticate"], 'Bearer scope="admin"');
  t.strictSame(none.json(), { detail: "Not authenticated" });
});

t.test("definition errors and metadata", async (t) => {
  const { oauth2 } = bookApp();
  t.throws(() => requireScopes(oauth2, ["books:delete"], () => undefined), { message: /not declared/ }, "a typo fails at startup");
  t.throws(() => requireScopes(oauth2, ["bad scope"], () => undefined), TypeError);
  const writer = requireScopes(oauth2, ["books:write"], () => undefined);
  t.equal(writer.security.name, "OAuth2PasswordBearer");
  t.equal(writer.security.scheme, oauth2.security.scheme, "the same scheme object: the generator sees one definition");
  t.strictSame(writer.security.scopes, ["books:write"]);
  t.equal(writer.security.scheme.type, "oauth2");
  t.equal(writer.challenge, 'Bearer error="invalid_token", scope="books:write"');
  const bearer = requireScopes(httpBearer(), ["anything"], () => undefined);
  t.strictSame(bearer.security.scopes, ["anything"], "an http bearer scheme declares no scopes to check against");
});

t.test("the OpenAPI document lists the scopes per operation", async (t) => {
  const doc = (await new TestClient(bookApp().app).get("/openapi.json")).json<{
    paths: Record<string, Record<string, { security?: unknown }>>;
    components: { securitySchemes: Record<string, unknown> };
  }>();
  t.strictSame(doc.paths["/books"]!.get!.security, [{ OAuth2PasswordBearer: ["books:read"] }]);
  t.strictSame(doc.paths["/books"]!.post!.security, [{ OAuth2PasswordBearer: ["books:read", "books:write"] }]);
  t.notOk(doc.paths["/open"]!.get!.security);
  t.match(doc.components.securitySchemes, { OAuth2PasswordBearer: { type: "oauth2", flows: { password: { tokenUrl: "token" } } } });
});

for (const server of ["node", "uws"] as const) {
  t.test(`over a real socket on ${server}`, { skip: server === "uws" ? uwsMissing : false }, async (t) => {
    const { app } = bookApp(server);
    const { url } = await app.listen({ host: "127.0.0.1", port: 0 });
    t.teardown(() => app.close({ timeout: 1_000 }));
    const ok = await request(`${url}/books`, { method: "POST", headers: { authorization: "bearer writer" } });
    t.equal(ok.statusCode, 200);
    t.strictSame(await ok.body.json(), { user: "will", scopes: ["books:read", "books:write"] });
    const forbidden = await request(`${url}/books`, { method: "POST", headers: { authorization: "Bearer reader" } });
    t.equal(forbidden.statusCode, 403);
    t.equal(forbidden.headers["www-authenticate"], 'Bearer error="insufficient_scope", scope="books:read books:write"');
    t.strictSame(await forbidden.body.json(), { detail: "Not enough permissions" });
    const none = await request(`${url}/books`);
    t.equal(none.statusCode, 401);
    t.equal(none.headers["www-authenticate"], "Bearer");
    await none.body.dump();
  });
}
