/**
 * The `trace` option in-process: off builds the plain pipeline (no record, no header); on, every
 * response carries a Server-Timing header that parses per the spec, one metric per layer reached,
 * in the layers' order; failures (404, 405, 422, 500, an early middleware answer) are traced too;
 * lifespan state still reaches requests; the record names what each layer did.
 */
import t from "tap";
import { Type } from "@sinclair/typebox";
import { App } from "../../../lib/app.js";
import { silentLogger } from "../../../lib/logger.js";
import { TestClient } from "../../../lib/test-client.js";
import { HttpException } from "../../../lib/errors.js";
import { dependency } from "../../../layers/di/dependency.js";
import { requestId } from "../../../layers/middleware/request-id.js";
import type { Middleware } from "../../../layers/middleware/middleware.js";
import { traceOf, TRACE_KEY, type TraceRecord } from "../../../lib/trace/trace-record.js";
import { parseServerTiming } from "./parse-server-timing.js";

class Clock {
  now = 1000;
}

/** A route with every layer: middleware, path validation, a shared cached dependency, a response schema. */
function fullApp(options: ConstructorParameters<typeof App>[0] = {}): App {
  const app = new App({ logger: silentLogger, ...options });
  app.use(requestId());
  const settings = dependency({}, function settings() {
    return { prefix: "book-" };
  });
  const label = dependency({ deps: { settings } }, function label({ deps }) {
    return (id: number) => `${deps.settings.prefix}${id}`;
  });
  app.get(
    "/books/{id}",
    {
      params: Type.Object({ id: Type.Integer() }),
      response: Type.Object({ id: Type.Integer(), label: Type.String() }),
      deps: { settings, label },
    },
    function getBook({ params, deps }) {
      if (params.id === 500) throw new Error("boom");
      if (params.id === 404) throw new HttpException(404, "Book not found");
      return { id: params.id, label: deps.label(params.id), secret: "dropped by the schema" };
    },
  );
  app.post("/books", { body: Type.Object({ title: Type.String() }), status: 201 }, async ({ body }) => ({ title: body.title }));
  return app;
}

t.test("trace off: the plain pipeline, no record, no header", async (t) => {
  const app = fullApp();
  let seen: unknown = "unset";
  app.get("/seen", ({ scope }) => {
    seen = scope.extensions?.[TRACE_KEY];
    return { trace: traceOf(scope) === undefined ? "none" : "some" };
  });
  t.not(app.build().name, "traceLayer", "the pipeline built is not the traced one");
  const client = new TestClient(app);
  const res = await client.get("/books/7");
  t.equal(res.status, 200);
  t.equal(res.headers["server-timing"], undefined);
  t.same((await client.get("/seen")).json(), { trace: "none" });
  t.equal(seen, undefined, "no trace record in scope.extensions");
  t.equal(new App({ trace: false }).build().name === "traceLayer", false, "trace: false is off");
});

t.test("trace on: Server-Timing parses, one metric per layer, in the layers' order", async (t) => {
  const records: TraceRecord[] = [];
  const app = fullApp({ trace: { onTrace: (record) => records.push(record) } });
  t.equal(app.build().name, "traceLayer", "the traced pipeline is built");
  const res = await new TestClient(app).get("/books/7");
  t.equal(res.status, 200);
  t.same(res.json(), { id: 7, label: "book-7" }, "the response itself is unchanged");
  const header = res.headers["server-timing"];
  t.type(header, "string");
  const metrics = parseServerTiming(header!);
  t.same(
    metrics.map((m) => m.name),
    ["middleware", "router", "di", "validation", "handler", "serializer", "total"],
  );
  for (const metric of metrics) {
    t.match(metric.params.dur, /^\d+\.\d{3}$/, `${metric.name} has a dur in ms with µs precision`);
    t.ok(Number(metric.params.dur) >= 0, `${metric.name} dur >= 0`);
  }
  const desc = Object.fromEntries(metrics.map((m) => [m.name, m.params.desc]));
  t.equal(desc.middleware, "error,requestId,exception");
  t.equal(desc.router, "GET /books/{id}");
  t.equal(desc.validation, "path ok");
  t.equal(desc.handler, "getBook");
  t.match(desc.serializer, /^response schema, \d+ bytes$/);

  t.equal(records.length, 1, "onTrace got the record once");
  const record = records[0]!;
  t.equal(record.status, 200);
  t.equal(record.serverTiming, header);
  t.same(record.route, { method: "GET", template: "/books/{id}", params: { id: "7" } });
  t.equal(record.scope.path, "/books/7");
  t.ok(record.end !== undefined && record.end >= record.start);
  const layers = record.spans.map((s) => `${s.layer}:${s.name}`);
  t.same(layers, [
    "middleware:error",
    "middleware:requestId",
    "middleware:exception",
    "router:lookup",
    "validation:path",
    "di:resolve",
    "handler:getBook",
    "serializer:response schema",
    "send:http.response.start",
    "send:http.response.body",
  ]);
  for (const span of record.spans) t.ok(span.end !== undefined && span.end >= span.start, `${span.layer} closed`);
  const mw = record.spans.filter((s) => s.layer === "middleware");
  t.same(mw.map((s) => s.depth), [0, 1, 2], "each middleware is nested in the one before");
  for (const span of mw) t.ok(span.innerStart! >= span.start && span.innerEnd! >= span.innerStart! && span.end! >= span.innerEnd!);
  const di = record.spans.find((s) => s.layer === "di")!;
  t.equal(di.detail, "settings (per request), settings (cached: reused), label (per request)", "the graph, in resolution order, and what was cached");
});

t.test("a deterministic clock gives exact durations", async (t) => {
  const clock = new Clock();
  const app = new App({ logger: silentLogger, trace: { clock: () => (clock.now += 1) } });
  app.get("/x", () => ({ ok: true }));
  const res = await new TestClient(app).get("/x");
  // Every clock read advances 1 ms: each metric's value is a whole number of ms, total is the span count.
  const metrics = parseServerTiming(res.headers["server-timing"]!);
  t.same(metrics.map((m) => m.name), ["middleware", "router", "handler", "serializer", "total"], "no DI or validation metric for a route without them");
  for (const metric of metrics) t.match(metric.params.dur, /^\d+\.000$/);
});

t.test("404, 405, 422 and 500 are traced too", async (t) => {
  const records: TraceRecord[] = [];
  const app = fullApp({ trace: { onTrace: (record) => records.push(record) } });
  const client = new TestClient(app, { raiseServerExceptions: false });

  const missing = await client.get("/nope");
  t.equal(missing.status, 404);
  t.same(parseServerTiming(missing.headers["server-timing"]!).map((m) => m.name), ["middleware", "router", "total"]);
  t.match(parseServerTiming(missing.headers["server-timing"]!)[1]!.params.desc, "no match");
  t.equal(records.at(-1)!.route, undefined);
  t.equal(records.at(-1)!.status, 404);

  const wrongMethod = await client.delete("/books/1");
  t.equal(wrongMethod.status, 405);
  t.match(records.at(-1)!.spans.find((s) => s.layer === "router")!.detail, /allowed: GET/);

  const invalid = await client.get("/books/abc");
  t.equal(invalid.status, 422);
  const invalidMetrics = parseServerTiming(invalid.headers["server-timing"]!);
  t.same(invalidMetrics.map((m) => m.name), ["middleware", "router", "validation", "total"], "no DI or handler after a failed validation");
  t.equal(invalidMetrics[2]!.params.desc, "path failed");
  t.match(records.at(-1)!.spans.find((s) => s.layer === "validation")!.detail, /^1 issue: path\.id: /);

  const badBody = await client.post("/books", { json: { title: 5 } });
  t.equal(badBody.status, 422);
  t.same(records.at(-1)!.spans.filter((s) => s.layer === "validation").map((s) => s.name), ["body"]);

  const created = await client.post("/books", { json: { title: "Dune" } });
  t.equal(created.status, 201);
  t.ok(records.at(-1)!.spans.some((s) => s.layer === "handler" && s.end !== undefined), "an async handler is timed to its end");

  const notFound = await client.get("/books/404");
  t.equal(notFound.status, 404);
  t.equal(records.at(-1)!.spans.find((s) => s.layer === "handler")!.error, "HttpException: Book not found");

  const failed = await client.get("/books/500");
  t.equal(failed.status, 500);
  const failedMetrics = parseServerTiming(failed.headers["server-timing"]!);
  t.same(failedMetrics.map((m) => m.name), ["middleware", "router", "di", "validation", "handler", "total"]);
  t.equal(failedMetrics.find((m) => m.name === "handler")!.params.desc, "getBook threw");
  t.equal(records.at(-1)!.status, 500);
});

t.test("a middleware that answers itself: traced, no router metric; an error escaping the app is recorded", async (t) => {
  const records: TraceRecord[] = [];
  const app = new App({ logger: silentLogger, trace: { onTrace: (record) => records.push(record) } });
  const gate: Middleware = (next) =>
    async function gateLayer(scope, receive, send) {
      if (scope.type === "http" && scope.path === "/closed") {
        await send({ type: "http.response.start", status: 403, headers: [] });
        await send({ type: "http.response.body", body: "no" });
        return;
      }
      return next(scope, receive, send);
    };
  app.use(gate);
  app.get("/open", () => "yes");
  const res = await new TestClient(app).get("/closed");
  t.equal(res.status, 403);
  t.same(parseServerTiming(res.headers["server-timing"]!).map((m) => m.name), ["middleware", "total"]);
  const gateSpan = records[0]!.spans.find((s) => s.name === "gate")!;
  t.equal(gateSpan.innerStart, undefined, "it never called next");

  // A wrapper outside the error layer that throws: the error reaches the server, and the record says so.
  const broken = new App({ logger: silentLogger, trace: { onTrace: (record) => records.push(record) } });
  broken.wrap(() => () => Promise.reject(new TypeError("wrapper broke")));
  const failed = await new TestClient(broken, { raiseServerExceptions: false }).get("/");
  t.equal(failed.status, 500);
  t.equal(records.at(-1)!.error, "TypeError: wrapper broke");
  t.equal(records.at(-1)!.status, undefined, "no response start was sent");
});

t.test("lifespan state, HEAD, an existing Server-Timing header, and a throwing onTrace", async (t) => {
  let calls = 0;
  const app = new App({
    logger: { ...silentLogger, error: () => calls++ } as typeof silentLogger,
    trace: {
      onTrace: () => {
        throw new Error("observer broke");
      },
    },
    async *lifespan() {
      yield { greeting: "hi" };
    },
  });
  app.get("/state", ({ scope, response }) => {
    response.setHeader("server-timing", 'db;dur=1.5;desc="app"');
    return { greeting: scope.state.greeting };
  });
  const client = new TestClient(app);
  await client.start();
  t.teardown(() => client.stop());
  const res = await client.get("/state");
  t.same(res.json(), { greeting: "hi" }, "lifespan state reaches the request");
  const lines = res.headerList.filter(([name]) => name === "server-timing").map(([, value]) => value);
  t.equal(lines.length, 2, "the app's own Server-Timing is kept, the trace's is added");
  t.equal(lines[0], 'db;dur=1.5;desc="app"');
  t.equal(parseServerTiming(lines.join(", ")).at(0)!.name, "db");
  t.equal(calls, 1, "the onTrace error was logged, the response was not affected");

  const head = await client.head("/state");
  t.equal(head.status, 200);
  t.equal(head.body.length, 0);
  t.ok(head.headers["server-timing"]!.includes("router;"));
});

t.test("setTrace turns it on and off; serverTiming: false keeps the record without the header", async (t) => {
  const app = new App({ logger: silentLogger });
  app.get("/x", ({ scope }) => ({ traced: traceOf(scope) !== undefined }));
  const client = new TestClient(app);
  t.same((await client.get("/x")).json(), { traced: false });
  app.setTrace(true);
  let res = await client.get("/x");
  t.same(res.json(), { traced: true });
  t.type(res.headers["server-timing"], "string");
  app.setTrace({ serverTiming: false });
  res = await client.get("/x");
  t.same(res.json(), { traced: true });
  t.equal(res.headers["server-timing"], undefined);
  app.setTrace(false);
  t.not(app.build().name, "traceLayer");
  t.same((await client.get("/x")).json(), { traced: false });
});

t.test("a traced app mounted in a traced app: one record, one header", async (t) => {
  const records: TraceRecord[] = [];
  const inner = new App({ logger: silentLogger, trace: true });
  inner.get("/item", function item() {
    return { inner: true };
  });
  const outer = new App({ logger: silentLogger, trace: { onTrace: (record) => records.push(record) } });
  outer.mount("/sub", inner);
  const res = await new TestClient(outer).get("/sub/item");
  t.equal(res.status, 200);
  t.equal(res.headerList.filter(([name]) => name === "server-timing").length, 1);
  t.equal(records.length, 1);
  t.ok(records[0]!.spans.some((s) => s.layer === "handler" && s.name === "item"), "the inner app's spans are in the outer record");
});
