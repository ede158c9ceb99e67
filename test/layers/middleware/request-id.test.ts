/** requestId through the in-process client and a full App (mounted sub-app, WebSocket scopes by hand). */
import t from "tap";
import type { App as EventApp, SendEvent, WebSocketScope } from "../../../layers/adapter/events.js";
import { MAX_REQUEST_ID_LENGTH, isValidRequestId, requestId, requestIdOf } from "../../../layers/middleware/request-id.js";
import { App } from "../../../lib/app.js";
import { silentLogger } from "../../../lib/logger.js";
import { TestClient } from "../../../lib/test-client.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** An app whose handler answers with the ID it sees, and sets its own x-request-id (which must be replaced). */
function echoApp(options?: Parameters<typeof requestId>[0]): TestClient {
  const app = new App({ logger: silentLogger });
  app.use(requestId(options));
  app.get("/id", ({ scope }) => ({ id: requestIdOf(scope) }));
  const sub = new App({ logger: silentLogger });
  sub.get("/id", ({ scope }) => ({ id: requestIdOf(scope) }));
  app.mount("/sub", sub);
  return new TestClient(app);
}

t.test("a well-formed incoming ID is kept, echoed and visible to handlers (also in a mounted app)", async (t) => {
  const client = echoApp();
  for (const id of ["abc-123", "0f8fad5b-d9cb-469f-a165-70867728950e", "Root=1-5759e988-bd862e3fe1be46a994272793", "a".repeat(MAX_REQUEST_ID_LENGTH), "svc:req/1+2@x_y.z"]) {
    const res = await client.get("/id", { headers: { "x-request-id": id } });
    t.equal(res.headers["x-request-id"], id);
    t.same(res.json(), { id });
  }
  const sub = await client.get("/sub/id", { headers: { "X-Request-ID": "from-upstream" } });
  t.same(sub.json(), { id: "from-upstream" }, "a mounted app sees it through the scope copy");
});

t.test("garbage is replaced by a generated UUID, never rejected", async (t) => {
  const client = echoApp();
  const garbage = ["", " ", "a b", "a\r\nset-cookie: x=1", "a\nb", "\u00e9t\u00e9", '"quoted"', "a;b", "<script>", "a".repeat(MAX_REQUEST_ID_LENGTH + 1), "x".repeat(10_240)];
  for (const id of garbage) {
    const res = await client.get("/id", { headers: [["x-request-id", id]] });
    t.equal(res.status, 200);
    t.match(res.headers["x-request-id"], UUID, JSON.stringify(id.slice(0, 20)));
    t.equal(res.json<{ id: string }>().id, res.headers["x-request-id"]);
  }
  const twice = await client.get("/id", { headers: [["x-request-id", "a"], ["x-request-id", "b"]] });
  t.match(twice.headers["x-request-id"], UUID, "a header sent twice is ambiguous: replaced");
  const none = await client.get("/id");
  t.match(none.headers["x-request-id"], UUID);
  const other = await client.get("/id");
  t.not(other.headers["x-request-id"], none.headers["x-request-id"], "fresh per request");
  t.notOk(isValidRequestId("a\u0000b"));
});

t.test("options: header name, generate, trustIncoming false", async (t) => {
  let n = 0;
  const client = echoApp({ header: "X-Correlation-ID", generate: () => `gen-${++n}`, trustIncoming: false });
  const res = await client.get("/id", { headers: { "x-correlation-id": "incoming", "x-request-id": "other" } });
  t.equal(res.headers["x-correlation-id"], "gen-1", "incoming ignored when not trusted");
  t.equal(res.headers["x-request-id"], undefined);
  t.same(res.json(), { id: "gen-1" });
  t.throws(() => requestId({ header: "bad header" }), TypeError);
  t.throws(() => requestId({ header: "x\r\ny" }), TypeError);
});

t.test("the app's own header of the same name is replaced, one line only", async (t) => {
  const inner: EventApp = async (_scope, _receive, send) => {
    await send({ type: "http.response.start", status: 200, headers: [["X-Request-Id", "app-set"], ["content-type", "text/plain"]] });
    await send({ type: "http.response.body", body: "" });
  };
  const res = await new TestClient(requestId()(inner)).get("/", { headers: { "x-request-id": "abc" } });
  t.same(res.headerList.filter(([n]) => n.toLowerCase() === "x-request-id"), [["x-request-id", "abc"]]);
  t.same(res.headerList.find(([n]) => n === "content-type"), ["content-type", "text/plain"]);
});

t.test("WebSocket: the ID is on the scope and echoed on the accept and on a denial", async (t) => {
  const scope = (): WebSocketScope => ({ type: "websocket", path: "/ws", rawPath: "/ws", queryString: "", headers: [["x-request-id", "ws-1"]], httpVersion: "1.1", scheme: "ws", client: null, server: null, rootPath: "", subprotocols: [], state: {} });
  const events: SendEvent[] = [];
  const collect = async (e: SendEvent): Promise<void> => {
    events.push(e);
  };
  let seen: string | undefined;
  await requestId()(async (s, _r, send) => {
    seen = requestIdOf(s);
    await send({ type: "websocket.accept" });
    await send({ type: "websocket.send", text: "x" });
  })(scope(), async () => ({ type: "websocket.connect" }), collect);
  t.equal(seen, "ws-1");
  t.same(events[0], { type: "websocket.accept", headers: [["x-request-id", "ws-1"]] });
  t.same(events[1], { type: "websocket.send", text: "x" });
  events.length = 0;
  await requestId()(async (_s, _r, send) => {
    await send({ type: "websocket.http.response.start", status: 401, headers: [] });
    await send({ type: "websocket.http.response.body", body: "no" });
  })(scope(), async () => ({ type: "websocket.connect" }), collect);
  t.same(events[0], { type: "websocket.http.response.start", status: 401, headers: [["x-request-id", "ws-1"]] });
});

t.test("without the layer (and on lifespan) requestIdOf is undefined", async (t) => {
  const app = new App({ logger: silentLogger });
  app.get("/id", ({ scope }) => ({ id: requestIdOf(scope) ?? null }));
  t.same((await new TestClient(app).get("/id", { headers: { "x-request-id": "abc" } })).json(), { id: null });
  t.equal(requestIdOf({ type: "lifespan", state: {} }), undefined);
  let lifespanPassed = false;
  await requestId()(async () => {
    lifespanPassed = true;
  })({ type: "lifespan", state: {} }, async () => ({ type: "lifespan.startup" }), async () => {});
  t.ok(lifespanPassed);
});
