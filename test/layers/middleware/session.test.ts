/**
 * session through a full App and the in-process client: round trips, key rotation, expiry, and
 * forged, tampered, oversized and garbage cookies (all an empty session, never an error). Cookies
 * are forged here independently of the implementation, from the documented format.
 */
import t from "tap";
import { createHmac } from "node:crypto";
import { parseSetCookie } from "cookie";
import type { SendEvent, WebSocketScope } from "../../../layers/adapter/events.js";
import { MAX_SESSION_COOKIE_LENGTH, SessionNotInstalledError, SessionTooLargeError, clearSession, session, sessionOf, type SessionOptions } from "../../../layers/middleware/session.js";
import { App } from "../../../lib/app.js";
import { silentLogger } from "../../../lib/logger.js";
import { TestClient, type TestResponse } from "../../../lib/test-client.js";

const KEY_A = "a".repeat(32) + "-current-key";
const KEY_B = "b".repeat(32) + "-previous-key";
const KEY_EVIL = "e".repeat(32) + "-attacker-key";
const DAY = 24 * 60 * 60;

let clock = Date.UTC(2026, 0, 1);
const now = (): number => clock;

/** A cookie value in the documented format, signed with `key`. */
function forge(key: string, payloadJson: string, timestamp = Math.floor(clock / 1000), name = "session"): string {
  const payload = Buffer.from(payloadJson).toString("base64url");
  const sig = createHmac("sha256", key).update(`laminar.session.v1.${name}.${payload}.${timestamp}`).digest("base64url");
  return `${payload}.${timestamp}.${sig}`;
}

function build(options: Partial<SessionOptions> = {}): TestClient {
  const app = new App({ logger: silentLogger });
  app.use(session({ secretKeys: [KEY_A], now, ...options }));
  app.get("/get", ({ scope }) => sessionOf(scope));
  app.get("/set", ({ scope, query }) => {
    Object.assign(sessionOf(scope), query);
    return sessionOf(scope);
  });
  app.get("/same", ({ scope }) => {
    const s = sessionOf(scope);
    s.n = s.n; // written back unchanged
    return s;
  });
  app.get("/clear", ({ scope }) => {
    clearSession(scope);
    return {};
  });
  app.get("/untouched", () => ({}));
  app.get("/big", ({ scope }) => {
    sessionOf(scope).blob = "x".repeat(5000);
    return {};
  });
  return new TestClient(app, { raiseServerExceptions: false });
}

function setCookies(res: TestResponse): string[] {
  return res.headerList.filter(([n]) => n === "set-cookie").map(([, v]) => v);
}

function withCookie(value: string | undefined, name = "session"): { headers: Record<string, string> } {
  if (value === undefined) throw new Error("no cookie value");
  return { headers: { cookie: `other=1; ${name}=${value}` } };
}

t.test("round trip: set, read back, unchanged responses send no cookie", async (t) => {
  const client = build();
  const first = await client.get("/set?user=ada&role=admin");
  const [cookie] = setCookies(first);
  t.ok(cookie, "a cookie is set");
  const parsed = parseSetCookie(cookie!);
  t.equal(parsed.name, "session");
  t.equal(parsed.path, "/");
  t.equal(parsed.httpOnly, true);
  t.equal(parsed.sameSite, "lax");
  t.equal(parsed.maxAge, 14 * DAY);
  t.notOk(parsed.secure);
  const value = parsed.value;
  const read = await client.get("/get", withCookie(value));
  t.same(read.json(), { user: "ada", role: "admin" });
  t.same(setCookies(read), [], "read only: no Set-Cookie");
  t.same(setCookies(await client.get("/same", withCookie(value))), [], "written back unchanged: no Set-Cookie");
  t.same(setCookies(await client.get("/untouched", withCookie(value))), [], "never read: no Set-Cookie");
  const changed = await client.get("/set?user=bob", withCookie(value));
  const again = parseSetCookie(setCookies(changed)[0]!).value;
  t.same((await client.get("/get", withCookie(again))).json(), { user: "bob", role: "admin" });
  t.same(setCookies(await client.get("/get")), [], "no cookie, nothing read into it: no Set-Cookie");
});

t.test("emptying the session clears the cookie with an expired one", async (t) => {
  const client = build();
  const value = forge(KEY_A, '{"user":"ada"}');
  const res = await client.get("/clear", withCookie(value));
  const cleared = parseSetCookie(setCookies(res)[0]!);
  t.equal(cleared.value, "");
  t.equal(cleared.maxAge, 0);
  t.ok(cleared.expires !== undefined && cleared.expires.getTime() < Date.now());
  t.same(setCookies(await client.get("/clear")), [], "nothing to clear without a cookie");
});

t.test("tampered, forged, wrong-key, expired and garbage cookies are an empty session, never an error", async (t) => {
  const client = build();
  const good = forge(KEY_A, '{"user":"ada"}');
  const [payload, ts, sig] = good.split(".") as [string, string, string];
  const evilPayload = Buffer.from('{"user":"admin"}').toString("base64url");
  const flipped = sig.slice(0, -2) + (sig.at(-2) === "A" ? "B" : "A") + sig.at(-1);
  const hostile = [
    `${evilPayload}.${ts}.${sig}`, // payload swapped, old signature
    `${payload}.${Number(ts) + 1}.${sig}`, // timestamp changed
    `${payload}.${ts}.${flipped}`,
    forge(KEY_EVIL, '{"user":"admin"}'),
    forge(KEY_A, '{"user":"admin"}', Math.floor(clock / 1000), "other"), // signed for another cookie name
    forge(KEY_A, '{"user":"ada"}', Math.floor(clock / 1000) - 15 * DAY), // expired
    forge(KEY_A, "[1,2]"),
    forge(KEY_A, "null"),
    forge(KEY_A, '"str"'),
    forge(KEY_A, "{not json"),
    `${payload}.${ts}`,
    `${payload}.${ts}.${sig}.extra`,
    `${payload}.${ts}.${sig.slice(0, 20)}`,
    `${payload}.${ts}.${sig}AA`,
    `${payload}.-1.${sig}`,
    `${payload}.1e9.${sig}`,
    "",
    "....",
    "garbage",
    "%ZZ%",
    `${"A".repeat(MAX_SESSION_COOKIE_LENGTH)}.${ts}.${sig}`,
    "x".repeat(10_000),
  ];
  for (const value of hostile) {
    const res = await client.get("/get", withCookie(value));
    t.equal(res.status, 200, JSON.stringify(value.slice(0, 40)));
    t.same(res.json(), {}, "empty session");
    // A rejected cookie the handler looked at and left empty is cleared.
    if (value !== "") t.equal(parseSetCookie(setCookies(res)[0] ?? "x=y").maxAge, 0, "cleared");
  }
  t.same((await client.get("/get", withCookie(good))).json(), { user: "ada" }, "the untouched original still works");
  const raw = await client.get("/get", { headers: { cookie: "session=%E0%A4%A; =; ;;; session" } });
  t.equal(raw.status, 200, "an unparsable Cookie header");
});

t.test("expiry follows maxAge; null never expires and sets no Max-Age", async (t) => {
  const client = build({ maxAge: 60 });
  const value = forge(KEY_A, '{"n":1}');
  clock += 59_000;
  t.same((await client.get("/get", withCookie(value))).json(), { n: 1 });
  clock += 2_000;
  t.same((await client.get("/get", withCookie(value))).json(), {}, "61 s later: expired");
  const forever = build({ maxAge: null });
  t.same((await forever.get("/get", withCookie(forge(KEY_A, '{"n":1}', 1)))).json(), { n: 1 }, "signed in 1970, still valid");
  const set = parseSetCookie(setCookies(await forever.get("/set?a=1"))[0]!);
  t.equal(set.maxAge, undefined);
});

t.test("key rotation: signs with the first key, accepts any listed", async (t) => {
  const client = build({ secretKeys: [KEY_A, KEY_B] });
  t.same((await client.get("/get", withCookie(forge(KEY_B, '{"old":true}')))).json(), { old: true }, "a cookie signed with the previous key");
  const renewed = parseSetCookie(setCookies(await client.get("/set?x=1", withCookie(forge(KEY_B, '{"old":true}'))))[0]!).value;
  t.same((await build({ secretKeys: [KEY_A] }).get("/get", withCookie(renewed))).json(), { old: true, x: "1" }, "re-signed with the current key");
  t.same((await build({ secretKeys: [KEY_A] }).get("/get", withCookie(forge(KEY_B, '{"old":true}')))).json(), {}, "once the old key is dropped, its cookies are not accepted");
});

t.test("cookie attributes: name, path, domain, sameSite, secure, httpOnly", async (t) => {
  const client = build({ cookieName: "sid", path: "/app", domain: "example.com", sameSite: "none", secure: true, httpOnly: false });
  const parsed = parseSetCookie(setCookies(await client.get("/set?a=1"))[0]!);
  t.match(parsed, { name: "sid", path: "/app", domain: "example.com", sameSite: "none", secure: true });
  t.notOk(parsed.httpOnly);
  t.same((await client.get("/get", withCookie(parsed.value, "sid"))).json(), { a: "1" });
  t.same((await client.get("/get", withCookie(parsed.value, "session"))).json(), {}, "under another name: not read");
});

t.test("a session too large for a cookie is an error (500), not a cookie browsers drop", async (t) => {
  const res = await build().get("/big");
  t.equal(res.status, 500);
  t.same(setCookies(res), []);
  const thrown = new SessionTooLargeError(5000);
  t.equal(thrown.code, "LMR_ERR_SESSION_TOO_LARGE");
});

t.test("invalid options throw at construction", async (t) => {
  const bad: Array<Partial<SessionOptions>> = [
    { secretKeys: [] },
    { secretKeys: ["short"] },
    { secretKeys: [KEY_A, "short"] },
    { cookieName: "a b" },
    { cookieName: "a;b" },
    { maxAge: 0 },
    { maxAge: -1 },
    { maxAge: 1.5 },
    { sameSite: "none" },
    { domain: "bad domain;" },
    { path: "/x;y" },
  ];
  for (const options of bad) t.throws(() => session({ secretKeys: [KEY_A], ...options }), JSON.stringify(options));
});

t.test("sessionOf without the layer throws; WebSocket scopes can read the session", async (t) => {
  t.throws(() => sessionOf({ type: "http", method: "GET", path: "/", rawPath: "/", queryString: "", headers: [], httpVersion: "1.1", scheme: "http", client: null, server: null, rootPath: "", state: {} }), SessionNotInstalledError);
  t.throws(() => sessionOf({ type: "lifespan", state: {} }), SessionNotInstalledError);
  const scope: WebSocketScope = { type: "websocket", path: "/ws", rawPath: "/ws", queryString: "", headers: [["cookie", `session=${forge(KEY_A, '{"u":1}')}`]], httpVersion: "1.1", scheme: "ws", client: null, server: null, rootPath: "", subprotocols: [], state: {} };
  const sent: SendEvent[] = [];
  let seen: unknown;
  await session({ secretKeys: [KEY_A], now })(async (s, _r, send) => {
    seen = { ...sessionOf(s) };
    sessionOf(s).changed = true;
    await send({ type: "websocket.accept" });
  })(scope, async () => ({ type: "websocket.connect" }), async (e) => {
    sent.push(e);
  });
  t.same(seen, { u: 1 });
  t.same(sent, [{ type: "websocket.accept" }], "no cookie on the 101");
});
