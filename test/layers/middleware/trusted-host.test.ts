/**
 * trustedHost through the in-process client (and a hand-made WebSocket scope): allowed and
 * forged Host headers, wildcards, IPv6, missing and repeated Host, the www redirect.
 */
import t from "tap";
import type { App, HeaderList, Receive, SendEvent, WebSocketScope } from "../../../layers/adapter/events.js";
import { trustedHost, INVALID_HOST_TEXT, type TrustedHostOptions } from "../../../layers/middleware/trusted-host.js";
import { TestClient } from "../../../lib/test-client.js";

const ok: App = async (_scope, _receive, send) => {
  await send({ type: "http.response.start", status: 200, headers: [["content-type", "text/plain"]] });
  await send({ type: "http.response.body", body: "ok" });
};

function client(options: TrustedHostOptions): TestClient {
  return new TestClient(trustedHost(options)(ok));
}

async function statusFor(options: TrustedHostOptions, headers: HeaderList, target = "/"): Promise<number> {
  return (await client(options).get(target, { headers })).status;
}

const allowed: TrustedHostOptions = { allowedHosts: ["example.com", "*.example.com", "127.0.0.1", "[::1]"] };

t.test("allowed hosts reach the app: port and case ignored, wildcard subdomains, IP literals", async (t) => {
  for (const host of ["example.com", "EXAMPLE.com:8443", "example.com.", "api.example.com", "a.b.example.com", "127.0.0.1:8000", "[::1]", "[::1]:8000"]) {
    const res = await client(allowed).get("/", { headers: { host } });
    t.equal(res.status, 200, host);
    t.equal(res.text, "ok");
  }
});

t.test("other and forged hosts get 400 Invalid host header, the app never runs", async (t) => {
  let ran = 0;
  const app = trustedHost(allowed)(async (scope, receive, send) => {
    ran++;
    return ok(scope, receive, send);
  });
  const c = new TestClient(app);
  const hostile = [
    "evil.com", "example.com.evil.net", "evil.com#example.com", "evil.com#.example.com", "example.com@evil.com",
    "evil.com/.example.com", "notexample.com", "xexample.com", ".example.com", "example.com:80:80", "example.com:99999",
    "[::2]", "::1", "127.0.0.2", "exa mple.com", "",
  ];
  for (const host of hostile) {
    const res = await c.get("/", { headers: { host } });
    t.equal(res.status, 400, JSON.stringify(host));
    t.equal(res.text, INVALID_HOST_TEXT);
    t.match(res.headers["content-type"], /^text\/plain/);
    t.equal(res.headers["content-length"], String(INVALID_HOST_TEXT.length));
  }
  t.equal(ran, 0);
});

t.test("a missing Host and several Host lines are 400", async (t) => {
  // The test client adds `host: testserver` unless one is given: hand it a list with none via a raw app call.
  const app = trustedHost({ allowedHosts: ["testserver"] })(ok);
  const events: SendEvent[] = [];
  const receive: Receive = async () => ({ type: "http.request", body: new Uint8Array(0), moreBody: false });
  await app({ type: "http", method: "GET", path: "/", rawPath: "/", queryString: "", headers: [], httpVersion: "1.0", scheme: "http", client: null, server: null, rootPath: "", state: {} }, receive, async (e) => {
    events.push(e);
  });
  t.match(events[0], { type: "http.response.start", status: 400 });
  t.equal(await statusFor({ allowedHosts: ["example.com"] }, [["host", "example.com"], ["host", "example.com"]]), 400);
  t.equal(await statusFor({ allowedHosts: ["example.com"] }, [["host", "example.com"], ["host", "evil.com"]]), 400);
});

t.test("a wildcard does not match its bare domain", async (t) => {
  t.equal(await statusFor({ allowedHosts: ["*.example.com"] }, [["host", "example.com"]]), 400);
  t.equal(await statusFor({ allowedHosts: ["*.example.com"] }, [["host", "x.example.com"]]), 200);
});

t.test("* allows any host and is the next app itself", async (t) => {
  t.equal(trustedHost({ allowedHosts: ["example.com", "*"] })(ok), ok);
  t.equal(await statusFor({ allowedHosts: ["*"] }, [["host", "anything.at.all"]]), 200);
});

t.test("www redirect: 307 to www.<host>, keeping scheme, port, path and query", async (t) => {
  const options = { allowedHosts: ["www.example.com"] };
  const res = await client(options).get("/a%20b/c?x=1&y=2", { headers: { host: "Example.com:8080" } });
  t.equal(res.status, 307);
  t.equal(res.headers.location, "http://www.example.com:8080/a%20b/c?x=1&y=2");
  t.equal(res.text, "");
  const post = await client(options).post("/p", { headers: { host: "example.com" }, body: "x" });
  t.equal(post.status, 307, "same status for a POST (method kept)");
  t.equal(post.headers.location, "http://www.example.com/p");
  t.equal((await client({ ...options, wwwRedirect: false }).get("/", { headers: { host: "example.com" } })).status, 400, "off: 400");
  t.equal((await client(options).get("/", { headers: { host: "evil.com" } })).status, 400, "www.evil.com is not listed: no redirect");
  t.equal((await client({ allowedHosts: ["*.example.com"] }).get("/", { headers: { host: "example.com" } })).status, 400, "a wildcard never redirects");
});

t.test("a WebSocket handshake with a bad Host gets a 400 denial response", async (t) => {
  const app = trustedHost(allowed)(async () => {
    t.fail("the app must not run");
  });
  const scope: WebSocketScope = { type: "websocket", path: "/ws", rawPath: "/ws", queryString: "", headers: [["host", "evil.com"]], httpVersion: "1.1", scheme: "ws", client: null, server: null, rootPath: "", subprotocols: [], state: {} };
  const events: SendEvent[] = [];
  await app(scope, async () => ({ type: "websocket.connect" }), async (e) => {
    events.push(e);
  });
  t.match(events, [{ type: "websocket.http.response.start", status: 400 }, { type: "websocket.http.response.body", body: INVALID_HOST_TEXT }]);
});

t.test("lifespan passes through", async (t) => {
  let seen = false;
  await trustedHost(allowed)(async () => {
    seen = true;
  })({ type: "lifespan", state: {} }, async () => ({ type: "lifespan.startup" }), async () => {});
  t.ok(seen);
});

t.test("invalid configuration throws at construction", async (t) => {
  for (const entry of ["*example.com", "a.*.com", "example.*", "**", "*.", "*.*.example.com", "example.com:80", "[::1]:80", "*.[::1]", "evil.com#x", "", "exa mple.com", "::1::2"]) {
    t.throws(() => trustedHost({ allowedHosts: [entry] }), TypeError, JSON.stringify(entry));
  }
  t.throws(() => trustedHost({ allowedHosts: [] }), TypeError);
  for (const entry of ["Example.COM", "*.Example.com", "::1", "[::1]", "10.0.0.1", "localhost"]) t.doesNotThrow(() => trustedHost({ allowedHosts: [entry] }), entry);
  t.equal(await statusFor({ allowedHosts: ["::1"] }, [["host", "[::1]:1"]]), 200, "::1 in the list matches [::1]");
});
