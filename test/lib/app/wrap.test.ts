/**
 * `App.wrap`: middleware around the whole pipeline, outside the error layer and every `use()`
 * middleware (where the CLI puts proxyHeaders).
 */
import t from "tap";
import { App, TestClient, silentLogger } from "../../../lib/index.js";
import type { Middleware } from "../../../layers/middleware/middleware.js";
import type { Scope, SendEvent } from "../../../layers/adapter/events.js";
import { proxyHeaders } from "../../../layers/middleware/proxy-headers.js";

/** A middleware that records its name when a request passes, and the response statuses it sees. */
function recorder(name: string, log: string[]): Middleware {
  return (next) => async (scope, receive, send) => {
    log.push(`${name}:${scope.type}`);
    await next(scope, receive, (event: SendEvent) => {
      if (event.type === "http.response.start") log.push(`${name} saw ${event.status}`);
      return send(event);
    });
  };
}

t.test("wrappers run outside every use() middleware, the first wrapped outermost", async (t) => {
  const log: string[] = [];
  const app = new App({ logger: silentLogger });
  app.use(recorder("use1", log));
  app.wrap(recorder("wrap1", log));
  app.use(recorder("use2", log));
  app.wrap(recorder("wrap2", log));
  app.get("/", () => {
    log.push("handler");
    return { ok: true };
  });
  const res = await new TestClient(app).get("/");
  t.equal(res.status, 200);
  t.same(log, ["wrap1:http", "wrap2:http", "use1:http", "use2:http", "handler", "use2 saw 200", "use1 saw 200", "wrap2 saw 200", "wrap1 saw 200"]);
});

t.test("a wrapper is outside the error layer: it sees the 500 the error layer makes of a throw", async (t) => {
  const log: string[] = [];
  const app = new App({ logger: silentLogger });
  app.wrap(recorder("wrap", log));
  app.use(recorder("use", log));
  app.get("/boom", () => {
    throw new Error("boom");
  });
  const res = await new TestClient(app, { raiseServerExceptions: false }).get("/boom");
  t.equal(res.status, 500);
  // The use() middleware is inside the error layer: the error passes through it, no response does.
  t.same(log, ["wrap:http", "use:http", "wrap saw 500"]);
});

t.test("what a wrapper changes in the scope is what middleware and handlers see", async (t) => {
  const app = new App({ logger: silentLogger });
  const seenByMiddleware: Array<unknown> = [];
  app.use((next) => async (scope, receive, send) => {
    if (scope.type === "http") seenByMiddleware.push([scope.client, scope.scheme]);
    return next(scope, receive, send);
  });
  app.wrap(proxyHeaders({ trustedHosts: "127.0.0.1" }));
  app.get("/who", ({ scope }) => ({ client: scope.client, scheme: scope.scheme }));
  const headers = { "x-forwarded-for": "6.6.6.6, 1.2.3.4", "x-forwarded-proto": "https" };

  const viaProxy = new TestClient(app, { client: ["127.0.0.1", 5000] });
  t.same((await viaProxy.get("/who", { headers })).json(), { client: ["1.2.3.4", 0], scheme: "https" });
  t.same(seenByMiddleware, [[["1.2.3.4", 0], "https"]]);

  const direct = new TestClient(app, { client: ["8.8.8.8", 5000] });
  t.same((await direct.get("/who", { headers })).json(), { client: ["8.8.8.8", 5000], scheme: "http" }, "forged headers from an untrusted peer");
});

t.test("a wrapper added after the first request applies to the next (the pipeline is rebuilt)", async (t) => {
  const app = new App({ logger: silentLogger });
  app.get("/who", ({ scope }) => ({ client: scope.client }));
  const client = new TestClient(app, { client: ["127.0.0.1", 5000] });
  const headers = { "x-forwarded-for": "1.2.3.4" };
  t.same((await client.get("/who", { headers })).json(), { client: ["127.0.0.1", 5000] });
  app.wrap(proxyHeaders({ trustedHosts: "127.0.0.1" }));
  t.same((await client.get("/who", { headers })).json(), { client: ["1.2.3.4", 0] });
});

t.test("lifespan events do not pass through wrappers, and wrap() chains", async (t) => {
  const types: Array<Scope["type"]> = [];
  const app = new App({
    logger: silentLogger,
    lifespan: async function* () {
      yield { ready: true };
    },
  });
  const returned = app.wrap((next) => (scope, receive, send) => {
    types.push(scope.type);
    return next(scope, receive, send);
  });
  t.equal(returned, app);
  app.get("/", ({ scope }) => scope.state);
  const client = new TestClient(app);
  await client.start();
  t.same((await client.get("/")).json(), { ready: true });
  await client.stop();
  t.same(types, ["http"]);
});

t.test("wrap(m, { outermost: true }) goes in front of wrappers added before it", async (t) => {
  const order: string[] = [];
  const mark = (name: string): Middleware => (next) => async (scope, receive, send) => {
    if (scope.type === "http") order.push(name);
    return next(scope, receive, send);
  };
  const app = new App({ logger: silentLogger });
  app.get("/", () => ({ ok: true }));
  app.wrap(mark("user"));
  app.wrap(mark("cli"), { outermost: true });
  await new TestClient(app).get("/");
  t.same(order, ["cli", "user"]);
});
