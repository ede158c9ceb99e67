/**
 * The per-request timeout layer: 503 before the response started, a cut connection after, late
 * sends and errors swallowed, the request's AbortSignal, timers cleared on every path.
 *
 * Every slow handler waits on a gate that only the test's teardown opens (or the test itself, after
 * the timeout was observed), so no assertion races the clock: the limit is 50 ms and the handler
 * would wait forever.
 */
import t, { type Test } from "tap";
import type { App as EventApp, HttpScope, LifespanScope, ReceiveEvent, Scope, SendEvent, WebSocketScope } from "../../../layers/adapter/events.js";
import { compose } from "../../../layers/middleware/middleware.js";
import { RequestTimeoutError, requestTimeout } from "../../../layers/middleware/request-timeout.js";
import { requestSignal } from "../../../layers/middleware/request-signal.js";
import { App, HttpException, StreamingResponse, TestClient, dependency, silentLogger } from "../../../lib/index.js";
import { collectResponses, openSocket, rawRequest } from "../../conformance/server/raw-http.js";
import { capturingLogger, deferred, type Deferred } from "../../conformance/server/test-apps.js";
import { loadUws } from "../../../layers/server/uws-load.js";

/** The real-socket tests run on both servers (uWS skipped when it cannot load). */
const SERVERS: Array<"node" | "uws"> = ["node", "uws"];
let uwsAvailable = true;
try {
  loadUws();
} catch {
  uwsAvailable = false;
}

const LIMIT = 0.05;

/** A gate the handler waits on; opened by teardown at the latest, so nothing dangles after the test. */
function gate(t: Test): Deferred<void> {
  const d = deferred<void>();
  t.teardown(() => d.resolve());
  return d;
}

/** Lets queued promise callbacks and one macrotask turn run (for work that settles after a release). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function httpScope(): HttpScope {
  return {
    type: "http",
    method: "GET",
    path: "/",
    rawPath: "/",
    queryString: "",
    headers: [["host", "x"]],
    httpVersion: "1.1",
    scheme: "http",
    client: null,
    server: null,
    rootPath: "",
    state: {},
  };
}

async function listen(t: Test, app: App, server: "node" | "uws"): Promise<number> {
  const { port } = await app.listen({ host: "127.0.0.1", port: 0, server });
  t.teardown(() => app.close({ timeout: 0 }));
  return port;
}

t.test("construction refuses a limit that is not a positive finite number of seconds, and a bad status", async (t) => {
  for (const seconds of [0, -1, -0.001, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 3_000_000, "1", undefined, null]) {
    t.throws(() => requestTimeout({ seconds: seconds as number }), RangeError, `seconds ${String(seconds)}`);
  }
  for (const status of [200, 302, 399, 600, 503.5, Number.NaN, "503"]) {
    t.throws(() => requestTimeout({ seconds: 1, status: status as number }), RangeError, `status ${String(status)}`);
  }
  t.type(requestTimeout({ seconds: 0.001, logger: silentLogger }), "function");
  t.type(requestTimeout({ seconds: 2_147_483, status: 504, logger: silentLogger }), "function");
});

t.test("a handler slower than the limit: 503 with a JSON detail, logged once as a warning", async (t) => {
  const release = gate(t);
  const logger = capturingLogger();
  const app = new App({ logger });
  app.use(requestTimeout({ seconds: LIMIT, logger }));
  app.get("/slow", async () => {
    await release.promise;
    return { late: true };
  });
  const res = await new TestClient(app).get("/slow");
  t.equal(res.status, 503);
  t.strictSame(res.json(), { detail: "Request timed out" });
  t.equal(res.headers["content-type"], "application/json");
  t.equal(res.headers["content-length"], String(res.body.length));
  t.ok(res.complete);
  const warnings = logger.entries.filter((e) => e.level === "warn");
  t.equal(warnings.length, 1);
  t.match(warnings[0], { msg: "request timed out", obj: { method: "GET", path: "/slow", timeoutSeconds: LIMIT, status: 503 } });
  t.equal(logger.entries.filter((e) => e.level === "error").length, 0, "no error logged");
});

t.test("a custom status", async (t) => {
  const release = gate(t);
  const app = new App({ logger: silentLogger });
  app.use(requestTimeout({ seconds: LIMIT, status: 504, logger: silentLogger }));
  app.get("/slow", () => release.promise.then(() => ({})));
  const res = await new TestClient(app).get("/slow");
  t.equal(res.status, 504);
  t.strictSame(res.json(), { detail: "Request timed out" });
});

t.test("a fast handler is untouched: same response, nothing logged, signal never aborted", async (t) => {
  const logger = capturingLogger();
  const app = new App({ logger });
  app.use(requestTimeout({ seconds: 60, logger }));
  let signal: AbortSignal | undefined;
  app.get("/fast", (ctx) => {
    signal = requestSignal(ctx.scope);
    return { ok: true };
  });
  app.get("/missing", () => {
    throw new HttpException(404, "no such thing");
  });
  const client = new TestClient(app);
  const res = await client.get("/fast");
  t.equal(res.status, 200);
  t.strictSame(res.json(), { ok: true });
  t.equal(signal?.aborted, false);
  const missing = await client.get("/missing");
  t.equal(missing.status, 404, "exception handlers inside the layer still answer");
  t.strictSame(missing.json(), { detail: "no such thing" });
  t.strictSame(logger.entries, []);
});

t.test("the timer is cleared on every path through the layer", async (t) => {
  // A delay no other code here uses, so the layer's timers can be told apart from everyone else's.
  const seconds = 987.654;
  const delay = seconds * 1000;
  const realSet = globalThis.setTimeout;
  const realClear = globalThis.clearTimeout;
  const armed = new Set<unknown>();
  const cleared = new Set<unknown>();
  globalThis.setTimeout = ((fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const handle = realSet(fn, ms, ...args);
    if (ms === delay) armed.add(handle);
    return handle;
  }) as typeof setTimeout;
  globalThis.clearTimeout = ((handle: NodeJS.Timeout | string | number | undefined) => {
    if (armed.has(handle)) cleared.add(handle);
    realClear(handle);
  }) as typeof clearTimeout;
  t.teardown(() => {
    globalThis.setTimeout = realSet;
    globalThis.clearTimeout = realClear;
    for (const handle of armed) realClear(handle as NodeJS.Timeout);
  });

  const app = new App({ logger: silentLogger });
  app.use(requestTimeout({ seconds, logger: silentLogger }));
  app.get("/ok", () => ({ ok: true }));
  app.get("/throws", () => {
    throw new Error("boom");
  });
  app.get("/http-exception", async () => {
    throw new HttpException(418, "teapot");
  });
  app.get("/stream", () => new StreamingResponse((async function* () {
    yield "a";
    yield "b";
  })()));
  const client = new TestClient(app, { raiseServerExceptions: false });
  const expected: Array<[string, number]> = [["/ok", 200], ["/throws", 500], ["/http-exception", 418], ["/stream", 200], ["/nowhere", 404]];
  for (const [path, status] of expected) {
    const before = armed.size;
    const res = await client.get(path);
    t.equal(res.status, status, path);
    t.equal(armed.size, before + 1, `${path}: one timer armed`);
    t.equal(cleared.size, armed.size, `${path}: and cleared`);
  }

  // The response completes, then the app keeps working: the timer goes with the response.
  const keepWorking = gate(t);
  let clearedAtReturn = -1;
  const layer = requestTimeout({ seconds, logger: silentLogger })(async (_scope, _receive, send) => {
    await send({ type: "http.response.start", status: 200, headers: [] });
    await send({ type: "http.response.body", body: "done" });
    clearedAtReturn = cleared.size;
    await keepWorking.promise;
  });
  const running = layer(httpScope(), async () => ({ type: "http.disconnect" }), async () => {});
  await settle();
  t.equal(clearedAtReturn, armed.size, "cleared as soon as the final body was sent");
  keepWorking.resolve();
  await running;

  // An app that throws synchronously (not through a promise).
  const throwing = requestTimeout({ seconds, logger: silentLogger })(() => {
    throw new Error("sync");
  });
  await t.rejects(throwing(httpScope(), async () => ({ type: "http.disconnect" }), async () => {}), { message: "sync" });
  t.equal(cleared.size, armed.size, "cleared after a synchronous throw");
});

for (const server of SERVERS) {
  t.test(`${server}: a handler that started streaming then stalls: the connection is ended, the client sees a truncated response`, { skip: server === "uws" && !uwsAvailable && "uWebSockets.js unavailable" }, async (t) => {
    const release = gate(t);
    const logger = capturingLogger();
    const app = new App({ logger });
    app.use(requestTimeout({ seconds: LIMIT, logger }));
    app.get("/stream", () =>
      new StreamingResponse((async function* () {
        yield "first chunk;";
        await release.promise;
        yield "never sent";
      })()),
    );
    app.get("/ok", () => ({ ok: true }));
    const port = await listen(t, app, server);
    const result = await rawRequest(port, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
    t.equal(result.closed, true, "the server closed the connection");
    t.equal(result.responses.length, 0, "no complete response was parsed");
    t.match(result.leftover, /^HTTP\/1\.1 200 /, "the head had gone out");
    t.match(result.leftover, /first chunk;/);
    t.notMatch(result.leftover, /never sent/);
    t.notMatch(result.leftover, /\r\n0\r\n\r\n$/, "no final chunk");
    const errors = logger.entries.filter((e) => e.level === "error");
    t.ok(errors.length > 0, "logged as an error (the response-started path)");
    t.ok(errors.every((e) => e.obj.err instanceof RequestTimeoutError), "every error line names the timeout");
    t.match(errors[0]!.obj.err, { code: "LMR_ERR_REQUEST_TIMEOUT", statusCode: 503 });
    const next = await rawRequest(port, "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n", { responses: 1 });
    t.equal(next.responses[0]!.status, 200, "the server goes on serving");
  });
}

t.test("the same on the in-process client: raised by default, an incomplete response otherwise", async (t) => {
  const release = gate(t);
  const app = new App({ logger: silentLogger });
  app.use(requestTimeout({ seconds: LIMIT, logger: silentLogger }));
  app.get("/stream", () =>
    new StreamingResponse((async function* () {
      yield "first";
      await release.promise;
      yield "second";
    })()),
  );
  await t.rejects(new TestClient(app).get("/stream"), RequestTimeoutError);
  const res = await new TestClient(app, { raiseServerExceptions: false }).get("/stream");
  t.equal(res.status, 200);
  t.equal(res.complete, false);
  t.equal(res.text, "first");
});

for (const server of SERVERS) {
  t.test(`${server}: a handler that fails after its timeout: no second response, no error logged, the connection reusable`, { skip: server === "uws" && !uwsAvailable && "uWebSockets.js unavailable" }, async (t) => {
    const logger = capturingLogger();
    const app = new App({ logger });
    app.use(requestTimeout({ seconds: LIMIT, logger }));
    const aborted = deferred<unknown>();
    const release = gate(t);
    const finished = deferred<void>();
    app.get("/late-error", async (ctx) => {
      requestSignal(ctx.scope).addEventListener("abort", function (this: AbortSignal) {
        aborted.resolve(this.reason);
      });
      try {
        await release.promise;
        throw new Error("late failure");
      } finally {
        finished.resolve();
      }
    });
    const lateHttp = deferred<void>();
    app.get("/late-http-exception", async (ctx) => {
      await new Promise((resolve) => requestSignal(ctx.scope).addEventListener("abort", resolve));
      lateHttp.resolve();
      throw new HttpException(404, "answered too late");
    });
    app.get("/ok", () => ({ ok: true }));
    const port = await listen(t, app, server);

    // One keep-alive connection: the 503, then (after the handler failed) a normal answer, and nothing between.
    const socket = await openSocket(port);
    const collected = collectResponses(socket, { responses: 3 });
    socket.write("GET /late-error HTTP/1.1\r\nHost: x\r\n\r\n");
    const reason = await aborted.promise;
    t.match(reason, { name: "TimeoutError" }, "the signal aborted with a TimeoutError");
    release.resolve();
    await finished.promise;
    await settle();
    socket.write("GET /late-http-exception HTTP/1.1\r\nHost: x\r\n\r\n");
    await lateHttp.promise;
    await settle();
    socket.write("GET /ok HTTP/1.1\r\nHost: x\r\n\r\n");
    const { responses, leftover } = await collected;
    t.strictSame(responses.map((r) => r.status), [503, 503, 200]);
    t.strictSame(JSON.parse(responses[0]!.body), { detail: "Request timed out" });
    t.strictSame(JSON.parse(responses[2]!.body), { ok: true });
    t.equal(leftover, "", "no stray bytes from a second response");
    t.strictSame(logger.entries.filter((e) => e.level === "error"), [], "no error logged");
    const late = logger.entries.filter((e) => e.level === "debug");
    t.equal(late.length, 1, "the late failure is kept at debug level");
    t.match(late[0]!.obj.err, { message: "late failure" });
  });
}

t.test("the inner app's receive() yields http.disconnect and its sends are dropped once the limit passed", async (t) => {
  const outerSent: SendEvent[] = [];
  let outerReceives = 0;
  const neverAnswers = (): Promise<ReceiveEvent> => {
    outerReceives++;
    return new Promise<ReceiveEvent>(() => {});
  };
  const seen: string[] = [];
  const done = deferred<void>();
  const inner: EventApp = async (scope, receive) => {
    const first = await receive(); // woken by the timeout
    seen.push(first.type);
    seen.push((await receive()).type); // answered at once, without asking the server
    const signal = requestSignal(scope as HttpScope);
    seen.push(`aborted:${signal.aborted}:${(signal.reason as Error).name}`);
    done.resolve();
  };
  const sendingInner: EventApp = async (scope, receive, send) => {
    await inner(scope, receive, send);
    await send({ type: "http.response.start", status: 200, headers: [] });
    await send({ type: "http.response.body", body: "too late" });
  };
  const app = compose([requestTimeout({ seconds: LIMIT, logger: silentLogger })], sendingInner);
  await app(httpScope(), neverAnswers, async (event) => {
    outerSent.push(event);
  });
  await done.promise;
  await settle();
  t.strictSame(seen, ["http.disconnect", "http.disconnect", "aborted:true:TimeoutError"]);
  t.equal(outerReceives, 1, "the server's receive() was not called again after the timeout");
  t.strictSame(
    outerSent.map((e) => (e.type === "http.response.start" ? e.status : e.type)),
    [503, "http.response.body"],
    "only the timeout answer reached the server",
  );
});

t.test("dependency cleanups the handler registers after its timeout still run, once", async (t) => {
  const release = gate(t);
  const events: string[] = [];
  const cleaned = deferred<void>();
  const session = dependency({}, function* () {
    events.push("open");
    try {
      yield "session";
    } finally {
      events.push("close");
      cleaned.resolve();
    }
  });
  const app = new App({ logger: silentLogger });
  app.use(requestTimeout({ seconds: LIMIT, logger: silentLogger }));
  app.get("/slow", { deps: { session } }, async ({ deps }) => {
    await release.promise;
    return { used: deps.session };
  });
  const res = await new TestClient(app).get("/slow");
  t.equal(res.status, 503);
  t.strictSame(events, ["open"], "the handler is still running: its session stays open");
  release.resolve();
  await cleaned.promise;
  await settle();
  t.strictSame(events, ["open", "close"]);
});

t.test("a handler asking for the signal after the timeout gets an aborted one", async (t) => {
  const release = gate(t);
  const observed = deferred<AbortSignal>();
  const app = new App({ logger: silentLogger });
  app.use(requestTimeout({ seconds: LIMIT, logger: silentLogger }));
  app.get("/slow", async (ctx) => {
    await release.promise;
    observed.resolve(requestSignal(ctx.scope));
    return {};
  });
  t.equal((await new TestClient(app).get("/slow")).status, 503);
  release.resolve();
  const signal = await observed.promise;
  t.equal(signal.aborted, true);
  t.match(signal.reason, { name: "TimeoutError", message: /0\.05 s/ });
});

t.test("WebSocket and lifespan scopes pass through untouched", async (t) => {
  const calls: Array<{ scope: Scope; receive: unknown; send: unknown }> = [];
  const inner: EventApp = async (scope, receive, send) => {
    calls.push({ scope, receive, send });
  };
  const app = compose([requestTimeout({ seconds: LIMIT, logger: silentLogger })], inner);
  const receive = async (): Promise<ReceiveEvent> => ({ type: "lifespan.startup" });
  const send = async (): Promise<void> => {};
  const lifespan: LifespanScope = { type: "lifespan", state: {} };
  const websocket = { ...httpScope(), type: "websocket", subprotocols: [] } as unknown as WebSocketScope;
  await app(lifespan, receive, send);
  await app(websocket, receive, send);
  t.equal(calls.length, 2);
  for (const call of calls) {
    t.equal(call.receive, receive, `${call.scope.type}: the server's own receive`);
    t.equal(call.send, send, `${call.scope.type}: the server's own send`);
  }
  t.equal(websocket.extensions, undefined, "nothing stored on the scope");
});
