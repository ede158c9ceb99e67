/**
 * HTTP Bearer (RFC 6750): a good token in any scheme case and after several spaces; missing,
 * other-scheme, empty, malformed and repeated credentials, each a 401 with the RFC's challenge
 * (no error code when nothing was sent, `invalid_token` otherwise); autoError false; metadata.
 */
import t from "tap";
import { App } from "../../../lib/app.js";
import { silentLogger } from "../../../lib/logger.js";
import { TestClient } from "../../../lib/test-client.js";
import { httpBearer, readBearerToken, bearerChallenge } from "../../../lib/security/http-bearer.js";
import { splitAuthorization } from "../../../lib/security/authorization-header.js";
import type { HttpScope } from "../../../lib/index.js";

function client(): TestClient {
  const app = new App({ logger: silentLogger });
  const bearer = httpBearer({ bearerFormat: "JWT" });
  const optional = httpBearer({ autoError: false, schemeName: "OptionalBearer" });
  app.get("/me", { deps: { token: bearer } }, ({ deps }) => ({ token: deps.token }));
  app.get("/maybe", { deps: { token: optional } }, ({ deps }) => ({ token: deps.token ?? null }));
  app.get("/verified", { deps: { token: bearer } }, ({ deps }) => {
    if (deps.token !== "good.token") throw bearer.unauthorized();
    return { ok: true };
  });
  return new TestClient(app);
}

t.test("a good token, whatever the scheme's case and the spaces after it", async (t) => {
  const c = client();
  for (const [authorization, token] of [
    ["Bearer abc.def-ghi_jkl~mno+p/q==", "abc.def-ghi_jkl~mno+p/q=="],
    ["bearer abc", "abc"],
    ["BEARER abc", "abc"],
    ["BeArEr    abc", "abc"],
    ["Bearer abc   ", "abc"],
  ]) {
    const res = await c.get("/me", { headers: { authorization: authorization! } });
    t.equal(res.status, 200, authorization);
    t.strictSame(res.json(), { token }, authorization);
  }
});

t.test("no bearer credentials: 401, bare Bearer challenge, Not authenticated", async (t) => {
  const c = client();
  for (const headers of <Array<Record<string, string>>>[{}, { authorization: "" }, { authorization: "Basic YTpi" }, { authorization: "Token abc" }, { authorization: "Bearerabc" }]) {
    const res = await c.get("/me", { headers });
    t.equal(res.status, 401, JSON.stringify(headers));
    t.equal(res.headers["www-authenticate"], "Bearer", "no error code when no token was sent (RFC 6750 §3.1)");
    t.strictSame(res.json(), { detail: "Not authenticated" });
  }
});

t.test("malformed bearer credentials: 401 invalid_token, nothing echoed", async (t) => {
  const c = client();
  for (const authorization of ["Bearer", "Bearer ", "Bearer a b", 'Bearer "quoted"', "Bearer abc,def", "Bearer =abc", "Bearer ab=c", "Bearer\tabc", "Bearer tökén"]) {
    const res = await c.get("/me", { headers: { authorization } });
    t.equal(res.status, 401, JSON.stringify(authorization));
    t.equal(res.headers["www-authenticate"], 'Bearer error="invalid_token"', JSON.stringify(authorization));
    t.strictSame(res.json(), { detail: "Invalid authentication credentials" });
    t.notMatch(res.text, /abc|quoted|tök/);
  }
  const twice = await c.get("/me", { headers: [["authorization", "Bearer a"], ["authorization", "Bearer b"]] });
  t.equal(twice.status, 401, "a repeated Authorization header is refused, not first-wins");
});

t.test("a token that does not verify: bearer.unauthorized()", async (t) => {
  const c = client();
  t.equal((await c.get("/verified", { headers: { authorization: "Bearer good.token" } })).status, 200);
  const res = await c.get("/verified", { headers: { authorization: "Bearer forged.token" } });
  t.equal(res.status, 401);
  t.equal(res.headers["www-authenticate"], 'Bearer error="invalid_token"');
  t.notMatch(res.text, /forged/);
});

t.test("autoError false", async (t) => {
  const c = client();
  t.strictSame((await c.get("/maybe")).json(), { token: null });
  t.strictSame((await c.get("/maybe", { headers: { authorization: "Bearer a b" } })).json(), { token: null });
  t.strictSame((await c.get("/maybe", { headers: { authorization: "Bearer ok" } })).json(), { token: "ok" });
});

t.test("the parsing helpers", async (t) => {
  const scope = (headers: Array<[string, string]>) => ({ headers }) as unknown as HttpScope;
  t.strictSame(readBearerToken(scope([])), { kind: "missing" });
  t.strictSame(readBearerToken(scope([["authorization", "Bearer x"]])), { kind: "token", token: "x" });
  t.strictSame(splitAuthorization("Basic  abc"), { scheme: "Basic", credentials: "abc" });
  t.strictSame(splitAuthorization("Basic"), { scheme: "Basic", credentials: "" });
  t.equal(splitAuthorization(" Basic abc"), undefined);
  t.equal(splitAuthorization("Bas(ic abc"), undefined);
  t.equal(bearerChallenge("insufficient_scope", ["a", "b:c"]), 'Bearer error="insufficient_scope", scope="a b:c"');
});

t.test("security metadata", async (t) => {
  t.strictSame(httpBearer().security, { name: "HTTPBearer", scheme: { type: "http", scheme: "bearer" }, scopes: [] });
  t.strictSame(httpBearer({ bearerFormat: "JWT", description: "d", schemeName: "Jwt" }).security, {
    name: "Jwt",
    scheme: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "d" },
    scopes: [],
  });
});
