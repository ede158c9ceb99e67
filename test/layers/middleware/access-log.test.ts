/**
 * accessLog with a real pino logger writing into an array: the fields of each line, exactly one
 * line per request however it ends (complete, client gone, app failure), WebSocket lines, and the
 * disabled case (the next app itself).
 */
import t from "tap";
import { pino } from "pino";
import type { App as EventApp, HttpScope, ReceiveEvent, SendEvent, WebSocketScope } from "../../../layers/adapter/events.js";
import { CLIENT_CLOSED_STATUS, accessLog } from "../../../layers/middleware/access-log.js";
import { requestId } from "../../../layers/middleware/request-id.js";
import { App } from "../../../lib/app.js";
import { silentLogger, type Logger } from "../../../lib/logger.js";
import { TestClient } from "../../../lib/test-client.js";
import { httpScope } from "../../fixtures/scopes.js";

type Line = Record<string, unknown>;

function capture(level = "info"): { logger: Logger; lines: Line[] } {
  const lines: Line[] = [];
  const logger = pino({ level, base: null, timestamp: false }, { write: (s: string) => void lines.push(JSON.parse(s) as Line) });
  return { logger, lines };
}

const noop = async (): Promise<void> => {};

t.test("disabled: a logger above info, or the silent logger, gets the next app itself", async (t) => {
  const next: EventApp = async () => {};
  t.equal(accessLog({ logger: capture("warn").logger })(next), next);
  t.equal(accessLog({ logger: pino({ level: "silent" }) })(next), next);
  t.equal(accessLog({ logger: silentLogger })(next), next);
  t.not(accessLog({ logger: capture("debug").logger })(next), next, "debug includes info");
  const plain: Logger = { error() {}, warn() {}, info() {}, debug() {} };
  t.not(accessLog({ logger: plain })(next), next, "a logger without isLevelEnabled is assumed to log");
});

t.test("one line per request with the documented fields, through a full App", async (t) => {
  const { logger, lines } = capture();
  const app = new App({ logger: silentLogger });
  app.wrap(requestId());
  app.wrap(accessLog({ logger }));
  app.get("/books/{id}", () => ({ title: "Dune \u00e9" }));
  const client = new TestClient(app);
  const res = await client.get("/books/1?token=secret", { headers: { "x-request-id": "req-1" } });
  t.equal(lines.length, 1);
  const line = lines[0]!;
  t.match(line, { level: 30, msg: "request completed", method: "GET", path: "/books/1", httpVersion: "1.1", status: 200, bytes: res.body.length, requestId: "req-1", client: "testclient" });
  t.type(line.durationMs, "number");
  t.ok((line.durationMs as number) >= 0);
  t.notOk("aborted" in line);
  t.notMatch(JSON.stringify(line), /secret/, "the query is not logged");
  await client.get("/missing");
  t.match(lines[1], { status: 404, path: "/missing" });
  t.equal(lines.length, 2);
});

/** Runs `app` wrapped in accessLog on a hand-made scope with scripted receive events; returns the lines and what was sent. */
async function run(app: EventApp, receiveEvents: ReceiveEvent[], scope: HttpScope | WebSocketScope = httpScope("GET", "/p", { client: ["10.0.0.7", 5000] })): Promise<{ lines: Line[]; sent: SendEvent[]; error: unknown }> {
  const { logger, lines } = capture();
  const sent: SendEvent[] = [];
  let error: unknown;
  try {
    await accessLog({ logger })(app)(scope, async () => receiveEvents.shift() ?? { type: "http.disconnect" }, async (e) => {
      sent.push(e);
    });
  } catch (e) {
    error = e;
  }
  return { lines, sent, error };
}

t.test("bytes: chunks summed as UTF-8, HEAD counts 0", async (t) => {
  const streaming: EventApp = async (_s, _r, send) => {
    await send({ type: "http.response.start", status: 201, headers: [] });
    await send({ type: "http.response.body", body: "\u00e9\u00e9", moreBody: true });
    await send({ type: "http.response.body", body: new Uint8Array(10), moreBody: true });
    await send({ type: "http.response.body" });
  };
  const { lines } = await run(streaming, []);
  t.match(lines, [{ status: 201, bytes: 14, client: "10.0.0.7" }]);
  t.notOk("aborted" in lines[0]!);
  const head = await run(streaming, [], httpScope("HEAD", "/"));
  t.match(head.lines, [{ method: "HEAD", bytes: 0, client: null }]);
});

t.test("the client leaves before a response: 499, aborted; sends after it are not counted", async (t) => {
  const leaves: EventApp = async (_s, receive, send) => {
    while ((await receive()).type !== "http.disconnect");
    await send({ type: "http.response.start", status: 200, headers: [] });
    await send({ type: "http.response.body", body: "late" });
  };
  const { lines } = await run(leaves, [{ type: "http.request", body: new Uint8Array(3), moreBody: true }]);
  t.equal(lines.length, 1);
  t.match(lines[0], { status: CLIENT_CLOSED_STATUS, bytes: 0, aborted: true });
  const givesUp: EventApp = async (_s, receive) => {
    await receive();
    await receive();
  };
  t.match((await run(givesUp, [{ type: "http.request", body: new Uint8Array(0), moreBody: false }])).lines, [{ status: 499, aborted: true }]);
});

t.test("the client leaves mid-response: status as sent, bytes until then, aborted", async (t) => {
  const app: EventApp = async (_s, receive, send) => {
    await send({ type: "http.response.start", status: 200, headers: [] });
    await send({ type: "http.response.body", body: "12345", moreBody: true });
    await receive(); // the body
    await receive(); // the disconnect
    await send({ type: "http.response.body", body: "67890" });
  };
  const { lines } = await run(app, [{ type: "http.request", body: new Uint8Array(0), moreBody: false }]);
  t.match(lines, [{ status: 200, bytes: 5, aborted: true }]);
  t.equal(lines.length, 1);
});

t.test("app failures: before the start 500, after it the status as sent; both aborted, error re-raised", async (t) => {
  const boom = new Error("boom");
  const before = await run(async () => {
    throw boom;
  }, []);
  t.equal(before.error, boom);
  t.match(before.lines, [{ status: 500, aborted: true }]);
  const after = await run(async (_s, _r, send) => {
    await send({ type: "http.response.start", status: 200, headers: [] });
    await send({ type: "http.response.body", body: "abc", moreBody: true });
    throw boom;
  }, []);
  t.equal(after.error, boom);
  t.match(after.lines, [{ status: 200, bytes: 3, aborted: true }]);
  const unfinished = await run(async (_s, _r, send) => {
    await send({ type: "http.response.start", status: 204, headers: [] });
  }, []);
  t.match(unfinished.lines, [{ status: 204, aborted: true }], "returned without finishing");
});

function wsScope(): WebSocketScope {
  return { type: "websocket", path: "/ws", rawPath: "/ws", queryString: "", headers: [], httpVersion: "1.1", scheme: "ws", client: ["10.0.0.8", 1], server: null, rootPath: "", subprotocols: [], state: {} };
}

t.test("WebSocket: one line when the connection ends", async (t) => {
  const chat: EventApp = async (_s, receive, send) => {
    await receive();
    await send({ type: "websocket.accept" });
    for (;;) {
      const event = await receive();
      if (event.type !== "websocket.receive") break;
      await send({ type: "websocket.send", text: event.text ?? "" });
    }
  };
  const ended = await run(chat, [{ type: "websocket.connect" }, { type: "websocket.receive", text: "a" }, { type: "websocket.receive", text: "b" }, { type: "websocket.disconnect", code: 1001, reason: "" }], wsScope());
  t.match(ended.lines, [{ msg: "websocket closed", method: "GET", path: "/ws", status: 101, closeCode: 1001, messagesIn: 2, messagesOut: 2, client: "10.0.0.8" }]);
  t.equal(ended.lines.length, 1);

  const serverCloses = await run(async (_s, _r, send) => {
    await send({ type: "websocket.accept" });
    await send({ type: "websocket.close", code: 4000 });
  }, [], wsScope());
  t.match(serverCloses.lines, [{ status: 101, closeCode: 4000 }]);
  t.match((await run(async (_s, _r, send) => send({ type: "websocket.close" }), [], wsScope())).lines, [{ status: 403, closeCode: null }]);
  t.match((await run(async (_s, _r, send) => send({ type: "websocket.http.response.start", status: 401, headers: [] }), [], wsScope())).lines, [{ status: 401 }]);
  t.match((await run(noop, [], wsScope())).lines, [{ status: 403 }], "returned without answering: 403");
  t.match((await run(async (_s, _r, send) => send({ type: "websocket.accept" }), [], wsScope())).lines, [{ status: 101, closeCode: 1006 }], "no close seen");
  const failed = await run(async () => {
    throw new Error("ws boom");
  }, [], wsScope());
  t.match(failed.lines, [{ status: 500, aborted: true }]);
  t.match(failed.error, { message: "ws boom" });
});

t.test("lifespan passes through without a line", async (t) => {
  const { logger, lines } = capture();
  let ran = false;
  await accessLog({ logger })(async () => {
    ran = true;
  })({ type: "lifespan", state: {} }, async () => ({ type: "lifespan.startup" }), noop);
  t.ok(ran);
  t.same(lines, []);
});

t.test("inside the error layer (app.use): a handler's unhandled error is logged as 500", async (t) => {
  const { logger, lines } = capture();
  const app = new App({ logger: silentLogger });
  app.use(accessLog({ logger }));
  app.get("/boom", () => {
    throw new Error("boom");
  });
  const res = await new TestClient(app, { raiseServerExceptions: false }).get("/boom");
  t.equal(res.status, 500);
  t.match(lines, [{ path: "/boom", status: 500, aborted: true }]);
  t.equal(lines.length, 1);
});
