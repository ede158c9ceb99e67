/** httpsRedirect through the in-process client and hand-made scopes. */
import t from "tap";
import type { App, HttpScope, SendEvent, WebSocketScope } from "../../../layers/adapter/events.js";
import { httpsRedirect, secureLocation } from "../../../layers/middleware/https-redirect.js";
import { TestClient } from "../../../lib/test-client.js";
import { httpScope } from "../../fixtures/scopes.js";

let ran = 0;
const ok: App = async (_scope, _receive, send) => {
  ran++;
  await send({ type: "http.response.start", status: 200, headers: [] });
  await send({ type: "http.response.body", body: "ok" });
};
const client = new TestClient(httpsRedirect()(ok));

function ws(extra: Partial<WebSocketScope>): WebSocketScope {
  return { type: "websocket", path: "/ws", rawPath: "/ws", queryString: "", headers: [], httpVersion: "1.1", scheme: "ws", client: null, server: null, rootPath: "", subprotocols: [], state: {}, ...extra };
}

t.test("http → https with 307 for every method, path and query kept, default ports dropped", async (t) => {
  ran = 0;
  const cases: Array<[string, string, string]> = [
    ["example.com", "/a%2Fb/c?x=1&y=%20", "https://example.com/a%2Fb/c?x=1&y=%20"],
    ["example.com:80", "/", "https://example.com/"],
    ["example.com:443", "/p", "https://example.com/p"],
    ["Example.com:8000", "/p?q", "https://example.com:8000/p?q"],
    ["[::1]:80", "/", "https://[::1]/"],
    ["[::1]:8080", "/", "https://[::1]:8080/"],
  ];
  for (const [host, target, location] of cases) {
    for (const method of ["GET", "POST", "DELETE"]) {
      const res = await client.request(method, target, { headers: { host } });
      t.equal(res.status, 307, `${method} ${host}${target}`);
      t.equal(res.headers.location, location);
      t.equal(res.text, "");
    }
  }
  t.equal(ran, 0, "the app never ran");
});

t.test("https requests pass through untouched", async (t) => {
  ran = 0;
  const app = httpsRedirect()(ok);
  const events: SendEvent[] = [];
  await app(httpScope("GET", "/", { scheme: "https", headers: [["host", "example.com"]] }), async () => ({ type: "http.request", body: new Uint8Array(0), moreBody: false }), async (e) => {
    events.push(e);
  });
  t.match(events[0], { status: 200 });
  t.equal(ran, 1);
  const passWss = httpsRedirect()(async () => {
    ran++;
  });
  await passWss(ws({ scheme: "wss" }), async () => ({ type: "websocket.connect" }), async () => {});
  t.equal(ran, 2);
});

t.test("a Host that is not a host is 400, never copied into Location", async (t) => {
  for (const host of ["evil.com/x", "good.com@evil.com", "a b", "example.com:80:80", "evil.com#x", "example.com\r\nset-cookie: x=1"]) {
    const res = await client.get("/", { headers: { host } });
    t.equal(res.status, 400, JSON.stringify(host));
    t.equal(res.headers.location, undefined);
  }
  t.equal((await client.get("/", { headers: [["host", "a.com"], ["host", "b.com"]] })).status, 400, "two Host lines");
});

t.test("without a Host header the server's address is used", async (t) => {
  const scope: HttpScope = httpScope("GET", "/x", { queryString: "a=1", server: ["10.0.0.1", 80] });
  t.equal(secureLocation(scope), "https://10.0.0.1/x?a=1");
  t.equal(secureLocation(httpScope("GET", "/", { server: ["::1", 8000] })), "https://[::1]:8000/");
  t.equal(secureLocation(httpScope("GET", "/", { server: null })), undefined, "nothing to go on: undefined (→ 400)");
});

t.test("ws → wss as a 307 denial response on the handshake", async (t) => {
  const events: SendEvent[] = [];
  await httpsRedirect()(ok)(ws({ headers: [["host", "example.com:80"]], queryString: "t=1" }), async () => ({ type: "websocket.connect" }), async (e) => {
    events.push(e);
  });
  t.match(events[0], { type: "websocket.http.response.start", status: 307 });
  const start = events[0] as { headers: Array<[string, string]> };
  t.same(start.headers.find(([n]) => n === "location"), ["location", "wss://example.com/ws?t=1"]);
});
