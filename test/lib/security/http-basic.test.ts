/**
 * HTTP Basic (RFC 7617): good credentials (UTF-8, colons in the password), missing, malformed
 * (no colon, invalid base64, invalid UTF-8, control characters, repeated header) and wrong ones,
 * each answered 401 with the realm's challenge; scheme names case-insensitive.
 */
import t from "tap";
import { App } from "../../../lib/app.js";
import { silentLogger } from "../../../lib/logger.js";
import { TestClient } from "../../../lib/test-client.js";
import { httpBasic, parseBasicCredentials } from "../../../lib/security/http-basic.js";
import { safeCompare } from "../../../lib/security/safe-compare.js";

const b64 = (s: string | Buffer): string => Buffer.from(s).toString("base64");
const CHALLENGE = 'Basic realm="admin area", charset="UTF-8"';

function client(): TestClient {
  const app = new App({ logger: silentLogger });
  const basic = httpBasic({ realm: "admin area" });
  const optional = httpBasic({ autoError: false, schemeName: "OptionalBasic" });
  app.get("/me", { deps: { credentials: basic } }, ({ deps }) => deps.credentials);
  app.get("/maybe", { deps: { credentials: optional } }, ({ deps }) => ({ credentials: deps.credentials ?? null }));
  app.get("/admin", { deps: { credentials: basic } }, ({ deps }) => {
    const okUser = safeCompare(deps.credentials.username, "admin");
    const okPassword = safeCompare(deps.credentials.password, "hunter2");
    if (!(okUser && okPassword)) throw basic.unauthorized("Incorrect username or password");
    return { admin: true };
  });
  return new TestClient(app);
}

t.test("good credentials: split at the first colon, UTF-8, any scheme case, spaces after it", async (t) => {
  const c = client();
  for (const [header, expected] of [
    [`Basic ${b64("alice:secret")}`, { username: "alice", password: "secret" }],
    [`basic ${b64("alice:se:cr:et")}`, { username: "alice", password: "se:cr:et" }],
    [`BASIC   ${b64("alice:")}`, { username: "alice", password: "" }],
    [`Basic ${b64("jürgen:pässwörd€")}`, { username: "jürgen", password: "pässwörd€" }],
    [`Basic ${b64(":only-password")}`, { username: "", password: "only-password" }],
  ] as const) {
    const res = await c.get("/me", { headers: { authorization: header } });
    t.equal(res.status, 200, header);
    t.strictSame(res.json(), expected, header);
  }
});

t.test("missing or other-scheme credentials: 401 Not authenticated with the challenge", async (t) => {
  const c = client();
  for (const headers of <Array<Record<string, string>>>[{}, { authorization: "" }, { authorization: "Bearer abc" }, { authorization: "Basically " + b64("a:b") }]) {
    const res = await c.get("/me", { headers });
    t.equal(res.status, 401, JSON.stringify(headers));
    t.equal(res.headers["www-authenticate"], CHALLENGE);
    t.strictSame(res.json(), { detail: "Not authenticated" });
  }
});

t.test("malformed credentials: 401 Invalid authentication credentials, nothing echoed", async (t) => {
  const c = client();
  const malformed = [
    "Basic",
    "Basic ",
    `Basic ${b64("no-colon-here")}`,
    "Basic !!!notbase64!!!",
    `Basic ${b64("alice:secret")}garbage`,
    `Basic ${b64("alice:secret").replace(/=+$/, "")}x`,
    `Basic ${b64(Buffer.from([0x61, 0x3a, 0xff, 0xfe]))}`, // "a:" + invalid UTF-8
    `Basic ${b64("alice:line\nbreak")}`,
    `Basic ${b64("al\u0000ice:pw")}`,
    `Basic\t${b64("alice:secret")}`, // the grammar's separator is SP only
  ];
  for (const authorization of malformed) {
    const res = await c.get("/me", { headers: { authorization } });
    t.equal(res.status, 401, JSON.stringify(authorization));
    t.equal(res.headers["www-authenticate"], CHALLENGE);
    t.strictSame(res.json(), { detail: "Invalid authentication credentials" }, JSON.stringify(authorization));
    t.notMatch(res.text, /alice|secret|garbage/);
  }
  const twice = await c.get("/me", { headers: [["authorization", `Basic ${b64("a:b")}`], ["authorization", `Basic ${b64("c:d")}`]] });
  t.equal(twice.status, 401, "a repeated Authorization header is refused");
  t.strictSame(twice.json(), { detail: "Invalid authentication credentials" });
});

t.test("wrong credentials answered with basic.unauthorized(): same challenge", async (t) => {
  const c = client();
  t.equal((await c.get("/admin", { headers: { authorization: `Basic ${b64("admin:hunter2")}` } })).status, 200);
  for (const pair of ["admin:hunter3", "root:hunter2", "admin:hunter2 ", "admin:"]) {
    const res = await c.get("/admin", { headers: { authorization: `Basic ${b64(pair)}` } });
    t.equal(res.status, 401, pair);
    t.equal(res.headers["www-authenticate"], CHALLENGE);
    t.strictSame(res.json(), { detail: "Incorrect username or password" });
  }
});

t.test("autoError false: undefined for missing and malformed credentials", async (t) => {
  const c = client();
  t.strictSame((await c.get("/maybe")).json(), { credentials: null });
  t.strictSame((await c.get("/maybe", { headers: { authorization: "Basic ###" } })).json(), { credentials: null });
  t.strictSame((await c.get("/maybe", { headers: { authorization: `Basic ${b64("u:p")}` } })).json(), { credentials: { username: "u", password: "p" } });
});

t.test("parseBasicCredentials and the realm's quoting", async (t) => {
  t.strictSame(parseBasicCredentials(b64("a:b")), { username: "a", password: "b" });
  t.equal(parseBasicCredentials("YTpi="), undefined, "wrong padding");
  t.strictSame(parseBasicCredentials("YTpi"), { username: "a", password: "b" }, "no padding needed at a multiple of 4");
  t.equal(parseBasicCredentials("YTpiYw"), undefined, "missing padding is malformed");
  t.equal(httpBasic({ realm: 'say "hi" \\ bye' }).challenge, 'Basic realm="say \\"hi\\" \\\\ bye", charset="UTF-8"');
  t.equal(httpBasic().challenge, 'Basic realm="api", charset="UTF-8"');
  t.throws(() => httpBasic({ realm: "a\r\nSet-Cookie: x=1" }), TypeError, "no header injection through the realm");
});

t.test("security metadata", async (t) => {
  t.strictSame(httpBasic().security, { name: "HTTPBasic", scheme: { type: "http", scheme: "basic" }, scopes: [] });
  t.strictSame(httpBasic({ schemeName: "Admin", description: "admins only" }).security, {
    name: "Admin",
    scheme: { type: "http", scheme: "basic", description: "admins only" },
    scopes: [],
  });
});
