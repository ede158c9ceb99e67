import t from "tap";
import { injectable, inject } from "../../../layers/di/decorators.js";
import { App, TestClient, Type, silentLogger, dependency, HttpException } from "../../../lib/index.js";
import { REQUEST_SCOPE } from "../../../layers/di/tsyringe-resolver.js";
import type { HttpScope } from "../../../layers/adapter/events.js";

t.test("function dependencies with sub-dependencies resolve once per request", async (t) => {
  let settingsCalls = 0;
  const settings = dependency({}, () => {
    settingsCalls++;
    return { prefix: "v" };
  });
  const version = dependency({ deps: { settings } }, ({ deps }) => `${deps.settings.prefix}1`);
  const label = dependency({ deps: { settings, version } }, ({ deps }) => `${deps.settings.prefix}:${deps.version}`);
  const app = new App({ logger: silentLogger });
  app.get("/", { deps: { label, version } }, ({ deps }) => ({ label: deps.label, version: deps.version }));
  const client = new TestClient(app);
  t.strictSame((await client.get("/")).json(), { label: "v:v1", version: "v1" });
  t.equal(settingsCalls, 1, "shared sub-dependency resolved once");
  await client.get("/");
  t.equal(settingsCalls, 2, "and once more for the next request");
});

t.test("dependencies declare request inputs that are validated with the route's", async (t) => {
  const pagination = dependency({ query: Type.Object({ limit: Type.Integer({ minimum: 1, default: 10 }) }) }, ({ query }) => query.limit);
  const app = new App({ logger: silentLogger });
  app.get("/items", { deps: { limit: pagination }, query: Type.Object({ q: Type.String() }) }, ({ deps, query }) => ({
    limit: deps.limit,
    q: query.q,
  }));
  const client = new TestClient(app);
  t.strictSame((await client.get("/items?q=a")).json(), { limit: 10, q: "a" });
  t.strictSame((await client.get("/items?q=a&limit=3")).json(), { limit: 3, q: "a" });
  const bad = await client.get("/items?limit=0");
  t.equal(bad.status, 422);
  const locs = bad.json<{ detail: Array<{ loc: string[] }> }>().detail.map((i) => i.loc.join("."));
  t.strictSame(locs.sort(), ["query.limit", "query.q"], "both the route's and the dependency's errors, in one answer");
});

t.test("generator cleanups run after the response, newest first, and see the handler's error", async (t) => {
  const events: string[] = [];
  const outer = dependency({}, async function* () {
    events.push("outer:setup");
    try {
      yield "outer";
      events.push("outer:ok");
    } catch (error) {
      events.push(`outer:error:${(error as Error).message}`);
      throw error;
    }
  });
  const inner = dependency({ deps: { outer } }, function* ({ deps }) {
    events.push("inner:setup");
    try {
      yield `${deps.outer}+inner`;
      events.push("inner:ok");
    } catch (error) {
      events.push(`inner:error:${(error as Error).message}`);
      throw error;
    }
  });
  const app = new App({ logger: silentLogger });
  app.use((next) => async (scope, receive, send) => {
    await next(scope, receive, async (event) => {
      if (event.type === "http.response.body" && !event.moreBody) events.push("response:sent");
      return send(event);
    });
  });
  app.get("/ok", { deps: { inner } }, ({ deps }) => ({ value: deps.inner }));
  app.get("/fail", { deps: { inner } }, () => {
    throw new HttpException(400, "nope");
  });
  const client = new TestClient(app);
  t.strictSame((await client.get("/ok")).json(), { value: "outer+inner" });
  t.strictSame(events, ["outer:setup", "inner:setup", "response:sent", "inner:ok", "outer:ok"]);
  events.length = 0;
  t.equal((await client.get("/fail")).status, 400);
  t.strictSame(events, ["outer:setup", "inner:setup", "response:sent", "inner:error:nope", "outer:error:nope"]);
});

t.test("an after-handler dependency exits before the response, and its failure decides the response", async (t) => {
  const events: string[] = [];
  const committing = dependency({ exit: "after-handler" }, function* () {
    yield "tx";
    events.push("commit");
    throw new HttpException(409, "conflict on commit");
  });
  const crashing = dependency({ exit: "after-handler" }, function* () {
    yield "tx";
    throw new Error("disk full");
  });
  const app = new App({ logger: silentLogger });
  app.use((next) => async (scope, receive, send) => {
    await next(scope, receive, async (event) => {
      if (event.type === "http.response.start") events.push(`start:${event.status}`);
      return send(event);
    });
  });
  app.get("/conflict", { deps: { tx: committing } }, () => ({ ok: true }));
  app.get("/crash", { deps: { tx: crashing } }, () => ({ ok: true }));
  const client = new TestClient(app);
  const res = await client.get("/conflict");
  t.equal(res.status, 409);
  t.strictSame(events, ["commit", "start:409"], "the cleanup ran before the response started");
  t.equal((await client.get("/crash")).status, 500, "an unexpected cleanup failure is a 500, not the handler's 200");
});

t.test("a dependency that raises HttpException short-circuits the handler", async (t) => {
  let handlerRan = false;
  const auth = dependency({ headers: Type.Object({ authorization: Type.Optional(Type.String()) }) }, ({ headers }) => {
    if (headers.authorization !== "Bearer good") throw new HttpException(401, "Not authenticated", [["www-authenticate", "Bearer"]]);
    return { user: "ann" };
  });
  const app = new App({ logger: silentLogger });
  app.get("/me", { deps: { auth } }, ({ deps }) => {
    handlerRan = true;
    return deps.auth;
  });
  const client = new TestClient(app);
  const denied = await client.get("/me");
  t.equal(denied.status, 401);
  t.equal(denied.headers["www-authenticate"], "Bearer");
  t.notOk(handlerRan);
  t.strictSame((await client.get("/me", { headers: { authorization: "Bearer good" } })).json(), { user: "ann" });
});

@injectable()
class Counter {
  static created = 0;
  readonly id = ++Counter.created;
}

@injectable()
class RequestInfo {
  constructor(@inject(REQUEST_SCOPE) readonly scope: HttpScope, readonly counter: Counter) {}
}

@injectable()
class UsesInfo {
  constructor(readonly info: RequestInfo) {}
}

t.test("class services: singleton shared, request-scoped per request, the scope injectable", async (t) => {
  const app = new App({ logger: silentLogger });
  app.provide(Counter, "singleton");
  app.provide(RequestInfo, "request");
  app.provide(UsesInfo, "transient");
  app.get("/", { deps: { info: RequestInfo, user: UsesInfo } }, ({ deps }) => ({
    path: deps.info.scope.path,
    same: deps.info === deps.user.info,
    counter: deps.info.counter.id,
  }));
  const client = new TestClient(app);
  const first = (await client.get("/")).json<{ path: string; same: boolean; counter: number }>();
  const second = (await client.get("/")).json<{ counter: number }>();
  t.equal(first.path, "/");
  t.ok(first.same, "one request-scoped instance within a request");
  t.equal(first.counter, second.counter, "one singleton across requests");
});

t.test("overrides replace any dependency for one app, and can be undone", async (t) => {
  const realUser = dependency({}, () => "real");
  const app = new App({ logger: silentLogger });
  app.get("/user", { deps: { user: realUser } }, ({ deps }) => ({ user: deps.user }));
  const client = new TestClient(app);
  t.strictSame((await client.get("/user")).json(), { user: "real" });
  const restore = app.override(realUser, { useValue: "fake" });
  t.strictSame((await client.get("/user")).json(), { user: "fake" });
  restore();
  t.strictSame((await client.get("/user")).json(), { user: "real" });
  const undo = app.override(realUser, dependency({}, () => "other"));
  t.strictSame((await client.get("/user")).json(), { user: "other" });
  undo();
});

t.test("router-level dependencies run for their effect on every included route", async (t) => {
  const { APIRouter } = await import("../../../lib/index.js");
  const calls: string[] = [];
  const audit = dependency({}, ({ scope }) => {
    calls.push(scope.path);
  });
  const admin = new APIRouter({ prefix: "/admin", tags: ["admin"], dependencies: [audit] });
  admin.get("/stats", () => ({ ok: true }));
  const app = new App({ logger: silentLogger });
  app.include(admin);
  t.equal((await new TestClient(app).get("/admin/stats")).status, 200);
  t.strictSame(calls, ["/admin/stats"]);
  t.strictSame(app.routes[0]!.options.tags, ["admin"]);
});
