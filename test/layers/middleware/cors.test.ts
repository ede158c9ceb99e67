/**
 * cors, in-process: simple requests, preflights allowed and refused, hostile origins and headers,
 * the unsafe configurations refused at construction, WebSocket origin checks.
 */
import t from "tap";
import type { App as EventApp, SendEvent } from "../../../layers/adapter/events.js";
import { cors, type CorsOptions } from "../../../layers/middleware/cors.js";
import { TestClient } from "../../../lib/test-client.js";

let calls = 0;
const app: EventApp = async (_scope, _receive, send) => {
  calls++;
  await send({ type: "http.response.start", status: 200, headers: [["content-type", "text/plain"], ["vary", "cookie"]] });
  await send({ type: "http.response.body", body: "hi", moreBody: false });
};
const client = (options: CorsOptions) => new TestClient(cors(options)(app));
const listed: CorsOptions = { allowOrigins: ["https://app.example.com"], allowOriginRegex: "https://.*\\.example\\.org", allowMethods: ["GET", "PUT"], allowHeaders: ["X-Token"], allowCredentials: true, exposeHeaders: ["x-total"] };

t.test("unsafe or invalid configurations throw", async (t) => {
  t.throws(() => cors({ allowOrigins: ["*"], allowCredentials: true }), TypeError);
  t.throws(() => cors({ allowOrigins: ["null"] }), TypeError);
  t.throws(() => cors({ allowOrigins: ["https://app.example.com/"] }), TypeError);
  t.throws(() => cors({ allowHeaders: ["bad header"] }), TypeError);
  t.throws(() => cors({ maxAge: -1 }), RangeError);
});

t.test("requests without Origin pass untouched", async (t) => {
  const res = await client(listed).get("/");
  t.same(res.headerList, [["content-type", "text/plain"], ["vary", "cookie"]]);
});

t.test("simple requests", async (t) => {
  const ok = await client(listed).get("/", { headers: { origin: "https://app.example.com" } });
  t.equal(ok.headers["access-control-allow-origin"], "https://app.example.com");
  t.equal(ok.headers["access-control-allow-credentials"], "true");
  t.equal(ok.headers["access-control-expose-headers"], "x-total");
  t.equal(ok.headers["vary"], "cookie, origin");
  const regex = await client(listed).get("/", { headers: { origin: "https://a.example.org" } });
  t.equal(regex.headers["access-control-allow-origin"], "https://a.example.org");
  for (const origin of ["https://evil.example.org.attacker.net", "xhttps://a.example.org", "null", "https://APP.example.com"]) {
    const res = await client(listed).get("/", { headers: { origin } });
    t.equal(res.headers["access-control-allow-origin"], undefined, origin);
    t.equal(res.headers["access-control-allow-credentials"], undefined, origin);
    t.equal(res.headers["vary"], "cookie, origin", `${origin}: still varies`);
  }
  const star = await client({ allowOrigins: ["*"] }).get("/", { headers: { origin: "null", cookie: "a=b" } });
  t.equal(star.headers["access-control-allow-origin"], "*");
  t.equal(star.headers["vary"], "cookie", "* does not depend on the origin");
});

t.test("preflights", async (t) => {
  const before = calls;
  const ok = await client(listed).options("/", { headers: { origin: "https://app.example.com", "access-control-request-method": "PUT", "access-control-request-headers": "X-TOKEN, content-type," } });
  t.equal(ok.status, 200);
  t.equal(ok.headers["access-control-allow-origin"], "https://app.example.com");
  t.equal(ok.headers["access-control-allow-methods"], "GET, PUT");
  t.equal(ok.headers["access-control-allow-headers"], "accept, accept-language, content-language, content-type, x-token");
  t.equal(ok.headers["access-control-max-age"], "600");
  t.equal(ok.headers["vary"], "origin");
  const refused: Array<[Record<string, string>, string]> = [
    [{ origin: "https://evil.example.org.attacker.net", "access-control-request-method": "GET" }, "Disallowed CORS origin"],
    [{ origin: "https://app.example.com", "access-control-request-method": "DELETE" }, "Disallowed CORS method"],
    [{ origin: "https://app.example.com", "access-control-request-method": "put" }, "Disallowed CORS method"],
    [{ origin: "https://app.example.com", "access-control-request-method": "GET", "access-control-request-headers": "x-token, x-unlisted" }, "Disallowed CORS headers"],
    [{ origin: "https://app.example.com", "access-control-request-method": "GET", "access-control-request-headers": "x token" }, "Disallowed CORS headers"],
    [{ origin: "null", "access-control-request-method": "PATCH", "access-control-request-headers": "x-a".repeat(5000) }, "Disallowed CORS origin, method, headers"],
  ];
  for (const [headers, reason] of refused) {
    const res = await client(listed).options("/", { headers });
    t.equal(res.status, 400);
    t.equal(res.text, reason);
    t.notOk(res.headerList.some(([name]) => name.startsWith("access-control-")), `${reason}: no CORS headers`);
  }
  t.equal(calls, before, "the app never sees a preflight");
  const any = await client({ allowOrigins: ["*"], allowMethods: ["*"], allowHeaders: ["*"] }).options("/", { headers: { origin: "https://x.test", "access-control-request-method": "PROPFIND", "access-control-request-headers": "X-A, x-b" } });
  t.equal(any.status, 200);
  t.equal(any.headers["access-control-allow-origin"], "*");
  t.match(any.headers["access-control-allow-methods"], /^PROPFIND, /);
  t.equal(any.headers["access-control-allow-headers"], "x-a, x-b");
  const plainOptions = await client(listed).options("/", { headers: { origin: "https://app.example.com" } });
  t.equal(plainOptions.text, "hi", "OPTIONS without Access-Control-Request-Method goes to the app");
});

t.test("WebSocket origins", async (t) => {
  const scope = (origin: string) => ({ type: "websocket" as const, path: "/ws", rawPath: "/ws", queryString: "", headers: [["origin", origin]] as Array<[string, string]>, httpVersion: "1.1" as const, scheme: "ws" as const, client: null, server: null, rootPath: "", subprotocols: [], state: {} });
  const run = async (options: CorsOptions, origin: string) => {
    const sent: SendEvent[] = [];
    let reached = false;
    await cors(options)(async () => void (reached = true))(scope(origin), async () => ({ type: "websocket.connect" }), async (e) => void sent.push(e));
    return { sent, reached };
  };
  t.same(await run(listed, "https://evil.test"), { sent: [], reached: true }, "not checked by default");
  t.same(await run({ ...listed, checkWebSocketOrigin: true }, "https://evil.test"), { sent: [{ type: "websocket.close", code: 1008, reason: "" }], reached: false });
  t.same(await run({ ...listed, checkWebSocketOrigin: true }, "https://app.example.com"), { sent: [], reached: true });
});
