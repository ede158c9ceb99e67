/**
 * API keys in a header, the query and a cookie: good, missing, empty, repeated keys; the 401 with
 * `WWW-Authenticate: APIKey`; autoError false; the security metadata the OpenAPI generator reads.
 */
import t from "tap";
import { App } from "../../../lib/app.js";
import { silentLogger } from "../../../lib/logger.js";
import { TestClient } from "../../../lib/test-client.js";
import { apiKeyCookie, apiKeyHeader, apiKeyQuery } from "../../../lib/security/api-key.js";
import { safeCompare } from "../../../lib/security/safe-compare.js";

function appWith(): { client: TestClient } {
  const app = new App({ logger: silentLogger });
  const header = apiKeyHeader({ name: "X-API-Key" });
  const query = apiKeyQuery({ name: "api_key" });
  const cookie = apiKeyCookie({ name: "session_key" });
  const optional = apiKeyHeader({ name: "X-Maybe", autoError: false });
  app.get("/header", { deps: { key: header } }, ({ deps }) => ({ key: deps.key }));
  app.get("/query", { deps: { key: query } }, ({ deps }) => ({ key: deps.key }));
  app.get("/cookie", { deps: { key: cookie } }, ({ deps }) => ({ key: deps.key }));
  app.get("/optional", { deps: { key: optional } }, ({ deps }) => ({ key: deps.key ?? null }));
  app.get("/checked", { deps: { key: header } }, ({ deps }) => {
    if (!safeCompare(deps.key, "s3cret")) throw header.unauthorized();
    return { ok: true };
  });
  return { client: new TestClient(app) };
}

t.test("a key in the header, query or cookie is resolved as sent", async (t) => {
  const { client } = appWith();
  t.strictSame((await client.get("/header", { headers: { "x-api-key": "abc" } })).json(), { key: "abc" });
  t.strictSame((await client.get("/query?api_key=a%20b")).json(), { key: "a b" });
  t.strictSame((await client.get("/cookie", { headers: { cookie: "other=1; session_key=xyz" } })).json(), { key: "xyz" });
  t.strictSame((await client.get("/cookie", { headers: [["cookie", "a=1"], ["cookie", "session_key=split"]] })).json(), { key: "split" }, "HTTP/2-style split cookie headers");
});

t.test("missing, empty or repeated keys are a 401 with the APIKey challenge", async (t) => {
  const { client } = appWith();
  const cases: Array<[string, Parameters<TestClient["get"]>[1], string]> = [
    ["/header", {}, "Not authenticated"],
    ["/header", { headers: { "x-api-key": "" } }, "Not authenticated"],
    ["/header", { headers: { "x-api-key": "   " } }, "Not authenticated"],
    ["/header", { headers: { "x-other": "abc" } }, "Not authenticated"],
    ["/header", { headers: [["x-api-key", "a"], ["x-api-key", "b"]] }, "Invalid authentication credentials"],
    ["/query", {}, "Not authenticated"],
    ["/query?api_key=", {}, "Not authenticated"],
    ["/query?API_KEY=abc", {}, "Not authenticated"],
    ["/query?api_key=a&api_key=b", {}, "Invalid authentication credentials"],
    ["/cookie", {}, "Not authenticated"],
    ["/cookie", { headers: { cookie: "session_key=" } }, "Not authenticated"],
    ["/cookie", { headers: { cookie: "session_keyx=1" } }, "Not authenticated"],
  ];
  for (const [path, options, detail] of cases) {
    const res = await client.get(path, options);
    t.equal(res.status, 401, `${path} ${JSON.stringify(options)}`);
    t.equal(res.headers["www-authenticate"], "APIKey");
    t.strictSame(res.json(), { detail });
  }
});

t.test("a wrong key answered with the scheme's own 401, the key never echoed", async (t) => {
  const { client } = appWith();
  t.equal((await client.get("/checked", { headers: { "x-api-key": "s3cret" } })).status, 200);
  const wrong = await client.get("/checked", { headers: { "x-api-key": "guess-guess" } });
  t.equal(wrong.status, 401);
  t.equal(wrong.headers["www-authenticate"], "APIKey");
  t.strictSame(wrong.json(), { detail: "Invalid authentication credentials" });
  t.notMatch(wrong.text, /guess/);
});

t.test("autoError false resolves undefined instead of answering", async (t) => {
  const { client } = appWith();
  t.strictSame((await client.get("/optional")).json(), { key: null });
  t.strictSame((await client.get("/optional", { headers: [["x-maybe", "a"], ["x-maybe", "b"]] })).json(), { key: null });
  t.strictSame((await client.get("/optional", { headers: { "x-maybe": "k" } })).json(), { key: "k" });
});

t.test("security metadata, as the OpenAPI generator reads it", async (t) => {
  const header = apiKeyHeader({ name: "X-API-Key", description: "The reports key" });
  t.strictSame(header.security, {
    name: "APIKeyHeader",
    scheme: { type: "apiKey", in: "header", name: "X-API-Key", description: "The reports key" },
    scopes: [],
  });
  t.strictSame(apiKeyQuery({ name: "k" }).security, { name: "APIKeyQuery", scheme: { type: "apiKey", in: "query", name: "k" }, scopes: [] });
  t.strictSame(apiKeyCookie({ name: "c", schemeName: "SessionKey" }).security, {
    name: "SessionKey",
    scheme: { type: "apiKey", in: "cookie", name: "c" },
    scopes: [],
  });
  t.strictSame(header.inputs, { params: undefined, query: undefined, headers: undefined, cookies: undefined }, "no parameter declared: the scheme covers it");
  t.equal(header.challenge, "APIKey");
  t.throws(() => apiKeyHeader({ name: "" }), TypeError);
});

t.test("in the generated document: the scheme, and no duplicate parameter", async (t) => {
  const app = new App({ logger: silentLogger });
  app.get("/r", { deps: { key: apiKeyHeader({ name: "X-API-Key" }) } }, () => ({}));
  const doc = (await new TestClient(app).get("/openapi.json")).json<{
    paths: Record<string, { get: { security?: unknown; parameters?: unknown[] } }>;
    components: { securitySchemes: Record<string, unknown> };
  }>();
  t.strictSame(doc.paths["/r"]!.get.security, [{ APIKeyHeader: [] }]);
  t.notOk(doc.paths["/r"]!.get.parameters?.length, "no x-api-key parameter");
  t.strictSame(doc.components.securitySchemes, { APIKeyHeader: { type: "apiKey", in: "header", name: "X-API-Key" } });
});
