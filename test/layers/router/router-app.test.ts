/**
 * RouterApp driven directly through the event interface: hand-made scopes, a fake receive and a
 * recording send; no sockets.
 */
import t, { type Test } from "tap";
import type { App, HttpScope, LifespanScope, Receive, Send, SendEvent } from "../../../layers/adapter/events.js";
import { FindMyWayRouter } from "../../../layers/router/find-my-way-router.js";
import { RouterApp } from "../../../layers/router/router-app.js";
import { HttpException } from "../../../lib/errors.js";
import { httpScope } from "../../fixtures/scopes.js";

const receive: Receive = async () => ({ type: "http.request", body: new Uint8Array(0), moreBody: false });

/** What an app saw when it was called. */
interface Seen {
  label: string;
  scope: HttpScope;
  path: string;
  rootPath: string;
  rawPath: string;
  method: string;
  pathParams: Record<string, string> | undefined;
}

/** An app answering 200 with `label` in two chunks (so moreBody flags can be checked). */
function textApp(label: string, seen: Seen[] = []): App {
  return async (scope, _receive, send) => {
    if (scope.type !== "http") throw new Error("textApp got a non-http scope");
    seen.push({
      label,
      scope,
      path: scope.path,
      rootPath: scope.rootPath,
      rawPath: scope.rawPath,
      method: scope.method,
      pathParams: scope.pathParams === undefined ? undefined : { ...scope.pathParams },
    });
    const body = Buffer.from(label);
    await send({ type: "http.response.start", status: 200, headers: [["content-length", String(body.length)]] });
    await send({ type: "http.response.body", body: body.subarray(0, 1), moreBody: true });
    await send({ type: "http.response.body", body: body.subarray(1) });
  };
}

async function call(app: App, scope: HttpScope): Promise<{ events: SendEvent[]; status: number; headers: Array<[string, string]>; body: string }> {
  const events: SendEvent[] = [];
  const send: Send = async (event) => {
    events.push(event);
  };
  await app(scope, receive, send);
  const start = events.find((e) => e.type === "http.response.start");
  let body = "";
  for (const e of events) {
    if (e.type === "http.response.body" && e.body !== undefined) body += typeof e.body === "string" ? e.body : Buffer.from(e.body).toString();
  }
  return {
    events,
    status: start?.type === "http.response.start" ? start.status : -1,
    headers: start?.type === "http.response.start" ? start.headers : [],
    body,
  };
}

/** Expects the call to reject with an HttpException of `status`; returns it. */
async function rejection(t: Test, app: App, scope: HttpScope, status: number): Promise<HttpException> {
  const sent: SendEvent[] = [];
  try {
    await app(scope, receive, async (e) => {
      sent.push(e);
    });
  } catch (error) {
    t.type(error, HttpException);
    t.equal((error as HttpException).status, status, `status ${status}`);
    t.strictSame(sent, [], "nothing was sent");
    return error as HttpException;
  }
  t.fail(`expected HttpException(${status})`);
  throw new Error("unreachable");
}

t.test("a matched route runs with pathParams set on the request scope", async (t) => {
  const seen: Seen[] = [];
  const router = new RouterApp();
  router.route(["GET"], "/items/{id}", textApp("item", seen));
  router.route(["GET", "POST"], "/items", textApp("items", seen));
  const scope = httpScope("GET", "/items/42");
  const res = await call(router.handle, scope);
  t.equal(res.status, 200);
  t.equal(res.body, "item");
  t.strictSame(seen[0]!.pathParams, { id: "42" });
  t.equal(seen[0]!.scope, scope, "routes get the caller's scope itself");
  t.strictSame({ ...scope.pathParams }, { id: "42" });
  t.equal((await call(router.handle, httpScope("POST", "/items"))).body, "items");
  t.strictSame(seen[1]!.pathParams, {}, "a route without parameters gets an empty object");
});

t.test("handle is bound once and returns the route app's own promise", async (t) => {
  const router = new RouterApp(new FindMyWayRouter<App>());
  const handle = router.handle;
  t.equal(router.handle, handle);
  let returned: Promise<void> | undefined;
  const app: App = (_scope, _receive, send) => {
    returned = send({ type: "http.response.start", status: 204, headers: [] }).then(() => send({ type: "http.response.body" }));
    return returned;
  };
  router.route(["GET"], "/p", app);
  const detached = { handle: router.handle }.handle; // no `this` needed
  const result = detached(httpScope("GET", "/p"), receive, async () => {});
  t.equal(result, returned, "no extra async wrapper");
  await result;
});

t.test("404 for an unknown path, as a rejected promise (never a synchronous throw)", async (t) => {
  const router = new RouterApp();
  router.route(["GET"], "/a", textApp("a"));
  let promise: Promise<void> | undefined;
  t.doesNotThrow(() => {
    promise = router.handle(httpScope("GET", "/nope"), receive, async () => {});
  });
  const error = await promise!.then(
    () => null,
    (e: unknown) => e,
  );
  t.ok(error instanceof HttpException && error.status === 404 && error.detail === "Not Found", "rejects with HttpException(404)");
  await rejection(t, router.handle, httpScope("GET", "/a/"), 404);
  await rejection(t, router.handle, httpScope("GET", "/A"), 404);
  await rejection(t, new RouterApp().handle, httpScope("GET", "/"), 404);
});

t.test("405 carries Allow: registered methods, HEAD with GET, OPTIONS; sorted", async (t) => {
  const router = new RouterApp();
  router.route(["POST", "GET"], "/items", textApp("items"));
  router.route(["DELETE"], "/items/{id}", textApp("delete"));
  let e = await rejection(t, router.handle, httpScope("PUT", "/items"), 405);
  t.equal(e.detail, "Method Not Allowed");
  t.strictSame(e.headers, [["allow", "GET, HEAD, OPTIONS, POST"]]);
  e = await rejection(t, router.handle, httpScope("GET", "/items/3"), 405);
  t.strictSame(e.headers, [["allow", "DELETE, OPTIONS"]], "no HEAD without GET");
  e = await rejection(t, router.handle, httpScope("HEAD", "/items/3"), 405);
  t.strictSame(e.headers, [["allow", "DELETE, OPTIONS"]], "HEAD is not answered by a DELETE route");
  e = await rejection(t, router.handle, httpScope("PUT", "/items"), 405);
  t.strictSame(e.headers, [["allow", "GET, HEAD, OPTIONS, POST"]], "same answer the second time (cached)");
});

t.test("HEAD runs the GET app without body bytes, keeping content-length and completion", async (t) => {
  const seen: Seen[] = [];
  const router = new RouterApp();
  router.route(["GET"], "/doc/{id}", textApp("hello world", seen));
  const res = await call(router.handle, httpScope("HEAD", "/doc/9"));
  t.equal(res.status, 200);
  t.strictSame(res.headers, [["content-length", "11"]], "headers exactly as GET sends them");
  const bodies = res.events.filter((e) => e.type === "http.response.body");
  t.equal(bodies.length, 2, "every body event still goes through");
  t.strictSame(
    bodies.map((e) => (e.type === "http.response.body" ? [e.body?.length, e.moreBody ?? false] : null)),
    [
      [0, true],
      [0, false],
    ],
    "empty bodies, same moreBody flags: the response completes",
  );
  t.equal(seen[0]!.method, "HEAD", "the GET app sees the real method");
  t.strictSame(seen[0]!.pathParams, { id: "9" });
  // GET itself is unaffected by the wrapper
  t.equal((await call(router.handle, httpScope("GET", "/doc/9"))).body, "hello world");
});

t.test("an explicit HEAD route wins over GET, registered before or after it", async (t) => {
  for (const order of ["head-first", "get-first"]) {
    const router = new RouterApp();
    const register = [
      () => router.route(["HEAD"], "/x", textApp("head")),
      () => router.route(["GET"], "/x", textApp("get")),
    ];
    if (order === "get-first") register.reverse();
    for (const r of register) r();
    const res = await call(router.handle, httpScope("HEAD", "/x"));
    t.equal(res.body, "head", `${order}: explicit HEAD app ran with its body`);
  }
});

t.test("OPTIONS: automatic 204 with Allow; an explicit OPTIONS route wins", async (t) => {
  const router = new RouterApp();
  router.route(["GET", "DELETE"], "/r/{id}", textApp("r"));
  router.route(["OPTIONS"], "/custom", textApp("custom options"));
  router.route(["GET"], "/custom", textApp("custom get"));
  const res = await call(router.handle, httpScope("OPTIONS", "/r/1"));
  t.equal(res.status, 204);
  t.strictSame(res.headers, [["allow", "DELETE, GET, HEAD, OPTIONS"]], "no content-length on a 204 (RFC 9110 §8.6)");
  t.equal(res.body, "");
  const last = res.events.at(-1);
  t.ok(last?.type === "http.response.body" && last.moreBody !== true, "the response is completed");
  t.equal((await call(router.handle, httpScope("OPTIONS", "/custom"))).body, "custom options");
  await rejection(t, router.handle, httpScope("OPTIONS", "/unknown"), 404);
  const e = await rejection(t, router.handle, httpScope("PUT", "/custom"), 405);
  t.strictSame(e.headers, [["allow", "GET, HEAD, OPTIONS"]], "OPTIONS listed once");
});

t.test("mount: the sub-app sees the rest of the path and an extended rootPath", async (t) => {
  const seen: Seen[] = [];
  const router = new RouterApp();
  router.mount("/api", textApp("api", seen));
  const cases: Array<[string, string]> = [
    ["/api/books/1", "/books/1"],
    ["/api", "/"],
    ["/api/", "/"],
    ["/api//x", "//x"],
  ];
  for (const [path, rest] of cases) {
    const scope = httpScope("PATCH", path, { rawPath: path.replace("books", "b%6Foks"), rootPath: "/root" });
    const before = { ...scope };
    const res = await call(router.handle, scope);
    t.equal(res.body, "api", path);
    const s = seen.at(-1)!;
    t.equal(s.path, rest, `${path}: path`);
    t.equal(s.rootPath, "/root/api", `${path}: rootPath`);
    t.equal(s.rawPath, before.rawPath, `${path}: rawPath unchanged`);
    t.not(s.scope, scope, `${path}: the sub-app gets a copy`);
    t.strictSame(scope, before, `${path}: the caller's scope is not mutated`);
  }
  await rejection(t, router.handle, httpScope("GET", "/apiother"), 404);
  await rejection(t, router.handle, httpScope("GET", "/ap"), 404);
  await rejection(t, router.handle, httpScope("GET", "/"), 404);
});

t.test("mount: a client address held by an accessor (uWS reads it on first use) reaches the sub-app", async (t) => {
  const seen: Seen[] = [];
  const router = new RouterApp();
  router.mount("/api", textApp("api", seen));
  const base = httpScope("GET", "/api/x");
  // A scope whose client lives on its prototype, as UwsHttpScope's does: a bare spread would drop it.
  const proto = { get client() { return ["10.0.0.7", 0]; } };
  const { client: _dropped, ...own } = base;
  const scope = Object.assign(Object.create(proto), own) as HttpScope;
  await call(router.handle, scope);
  t.strictSame(seen.at(-1)!.scope.client, ["10.0.0.7", 0]);
});

t.test("nested mounts and a RouterApp as the mounted app", async (t) => {
  const seen: Seen[] = [];
  const inner = new RouterApp();
  inner.route(["GET"], "/items/{id}", textApp("inner item", seen));
  const middle = new RouterApp();
  middle.mount("/v1", inner.handle);
  const outer = new RouterApp();
  outer.mount("/api", middle.handle);
  const scope = httpScope("GET", "/api/v1/items/7");
  const res = await call(outer.handle, scope);
  t.equal(res.body, "inner item");
  t.equal(seen[0]!.path, "/items/7");
  t.equal(seen[0]!.rootPath, "/api/v1");
  t.equal(seen[0]!.rawPath, "/api/v1/items/7");
  t.strictSame(seen[0]!.pathParams, { id: "7" });
  t.equal(scope.pathParams, undefined, "pathParams were set on the copy, not on the caller's scope");
  t.equal(scope.path, "/api/v1/items/7");
  t.equal(scope.rootPath, "");
  // a miss inside the mounted router is its 404
  await rejection(t, outer.handle, httpScope("GET", "/api/v1/nothing"), 404);
  await rejection(t, outer.handle, httpScope("POST", "/api/v1/items/7"), 405);
});

t.test("the longest mount prefix wins, whatever the order; '/' mounts at the root", async (t) => {
  const router = new RouterApp();
  router.mount("/", textApp("root"));
  router.mount("/a", textApp("a"));
  router.mount("/a/b/", textApp("ab")); // trailing slash ignored
  t.equal((await call(router.handle, httpScope("GET", "/a/b/c"))).body, "ab");
  t.equal((await call(router.handle, httpScope("GET", "/a/b"))).body, "ab");
  t.equal((await call(router.handle, httpScope("GET", "/a/bc"))).body, "a");
  t.equal((await call(router.handle, httpScope("GET", "/elsewhere"))).body, "root");
});

t.test("routes and mounts overlapping: the route wins for its methods, the mount gets the rest", async (t) => {
  const seen: Seen[] = [];
  const router = new RouterApp();
  router.mount("/api", textApp("mount", seen));
  router.route(["GET"], "/api/health", textApp("health", seen));
  t.equal((await call(router.handle, httpScope("GET", "/api/health"))).body, "health");
  t.equal((await call(router.handle, httpScope("HEAD", "/api/health"))).body, "", "HEAD from the GET route");
  t.equal(seen.at(-1)!.label, "health");
  t.equal((await call(router.handle, httpScope("POST", "/api/health"))).body, "mount", "as Starlette: mount beats a method-only match");
  t.equal((await call(router.handle, httpScope("OPTIONS", "/api/health"))).body, "mount");
  t.equal((await call(router.handle, httpScope("GET", "/api/other"))).body, "mount");
});

t.test("lifespan scopes are ignored: nothing runs, nothing is sent", async (t) => {
  let called = false;
  const spy: App = async () => {
    called = true;
  };
  const router = new RouterApp();
  router.route(["GET"], "/", spy);
  router.mount("/sub", spy);
  const sent: SendEvent[] = [];
  const scope: LifespanScope = { type: "lifespan", state: {} };
  await router.handle(scope, async () => ({ type: "lifespan.startup" }), async (e) => {
    sent.push(e);
  });
  t.equal(called, false);
  t.strictSame(sent, []);
});

t.test("registration errors", async (t) => {
  const router = new RouterApp();
  router.route(["GET"], "/a", textApp("a"));
  t.throws(() => router.route([], "/b", textApp("b")), { code: "LMR_ERR_ROUTE_DEFINITION" });
  t.throws(() => router.route(["GET"], "/a", textApp("again")), { code: "LMR_ERR_ROUTE_DEFINITION" });
  t.throws(() => router.route(["get"], "/a", textApp("again")), { code: "LMR_ERR_ROUTE_DEFINITION" }, "methods are upper-cased");
  t.throws(() => router.route(["GET"], "no-slash", textApp("x")), { code: "LMR_ERR_ROUTE_DEFINITION" });
  router.mount("/m", textApp("m"));
  for (const prefix of ["/m", "/m/", "m", "", "/{x}", "/a/*", "/a?b", "/a//b"]) {
    t.throws(() => router.mount(prefix, textApp("m")), { code: "LMR_ERR_ROUTE_DEFINITION" }, JSON.stringify(prefix));
  }
  t.equal((await call(router.handle, httpScope("GET", "/a"))).body, "a", "the first registration still answers");
});
