import t from "tap";
import { App, APIRouter, TestClient, Type, silentLogger, HttpException } from "../../../lib/index.js";
import {
  EmptyResponse,
  HTMLResponse,
  JSONResponse,
  PlainTextResponse,
  RedirectResponse,
  StreamingResponse,
} from "../../../layers/handler/responses.js";

function makeApp(): App {
  return new App({ logger: silentLogger });
}

t.test("a plain return value becomes a JSON response with type and length", async (t) => {
  const app = makeApp();
  app.get("/hello", () => ({ message: "héllo" }));
  const res = await new TestClient(app).get("/hello");
  t.equal(res.status, 200);
  t.equal(res.headers["content-type"], "application/json");
  t.equal(res.headers["content-length"], String(Buffer.byteLength('{"message":"héllo"}')));
  t.strictSame(res.json(), { message: "héllo" });
});

t.test("async handlers and the declared success status", async (t) => {
  const app = makeApp();
  app.post("/things", { status: 201 }, async () => {
    await Promise.resolve();
    return { created: true };
  });
  const res = await new TestClient(app).post("/things");
  t.equal(res.status, 201);
  t.strictSame(res.json(), { created: true });
});

t.test("a 204 route sends no body and no content headers", async (t) => {
  const app = makeApp();
  app.delete("/x", { status: 204 }, () => undefined);
  const res = await new TestClient(app).delete("/x");
  t.equal(res.status, 204);
  t.equal(res.body.length, 0);
  t.notOk("content-type" in res.headers);
});

t.test("Response objects pass through with their status and headers", async (t) => {
  const app = makeApp();
  app.get("/text", () => new PlainTextResponse("plain", { headers: { "X-Extra": "1" } }));
  app.get("/html", () => new HTMLResponse("<p>hi</p>", { status: 202 }));
  app.get("/json", () => new JSONResponse({ a: 1 }, { status: 418 }));
  app.get("/redirect", () => new RedirectResponse("/elsewhere path"));
  app.get("/empty", () => new EmptyResponse());
  app.get("/stream", () => new StreamingResponse(["a", "b", Buffer.from("c")], { headers: { "content-type": "text/plain" } }));
  const client = new TestClient(app);

  const text = await client.get("/text");
  t.equal(text.headers["content-type"], "text/plain; charset=utf-8");
  t.equal(text.headers["x-extra"], "1");
  t.equal(text.text, "plain");

  const html = await client.get("/html");
  t.equal(html.status, 202);
  t.equal(html.headers["content-type"], "text/html; charset=utf-8");

  const json = await client.get("/json");
  t.equal(json.status, 418);
  t.strictSame(json.json(), { a: 1 });

  const redirect = await client.get("/redirect");
  t.equal(redirect.status, 307);
  t.equal(redirect.headers.location, "/elsewhere%20path");

  const empty = await client.get("/empty");
  t.equal(empty.status, 204);
  t.equal(empty.text, "");

  const stream = await client.get("/stream");
  t.equal(stream.text, "abc");
  t.ok(stream.complete);
});

t.test("HttpException becomes its status, detail and headers", async (t) => {
  const app = makeApp();
  app.get("/missing", () => {
    throw new HttpException(404, "Book not found");
  });
  app.get("/auth", () => {
    throw new HttpException(401, { reason: "no token" }, [["www-authenticate", "Bearer"]]);
  });
  app.get("/bare", () => {
    throw new HttpException(409);
  });
  const client = new TestClient(app);
  const missing = await client.get("/missing");
  t.equal(missing.status, 404);
  t.strictSame(missing.json(), { detail: "Book not found" });
  const auth = await client.get("/auth");
  t.equal(auth.status, 401);
  t.equal(auth.headers["www-authenticate"], "Bearer");
  t.strictSame(auth.json(), { detail: { reason: "no token" } });
  t.strictSame((await client.get("/bare")).json(), { detail: "Conflict" });
});

t.test("unknown path is 404, wrong method is 405 with Allow, HEAD and OPTIONS are answered", async (t) => {
  const app = makeApp();
  app.get("/items", () => [1, 2, 3]);
  app.post("/items", () => ({}));
  const client = new TestClient(app);

  const notFound = await client.get("/nope");
  t.equal(notFound.status, 404);
  t.strictSame(notFound.json(), { detail: "Not Found" });

  const notAllowed = await client.delete("/items");
  t.equal(notAllowed.status, 405);
  t.match(notAllowed.headers.allow, /GET/);
  t.match(notAllowed.headers.allow, /POST/);
  t.strictSame(notAllowed.json(), { detail: "Method Not Allowed" });

  const head = await client.head("/items");
  t.equal(head.status, 200);
  t.equal(head.body.length, 0, "no body on HEAD");
  t.equal(head.headers["content-length"], "7", "content-length of the GET body");

  const options = await client.options("/items");
  t.equal(options.status, 204);
  t.match(options.headers.allow, /GET/);
});

t.test("mounting an event-interface app and another laminar App", async (t) => {
  const app = makeApp();
  const seen: Array<{ path: string; rootPath: string }> = [];
  app.mount("/raw", async (scope, _receive, send) => {
    if (scope.type !== "http") return;
    seen.push({ path: scope.path, rootPath: scope.rootPath });
    await send({ type: "http.response.start", status: 200, headers: [["content-type", "text/plain"]] });
    await send({ type: "http.response.body", body: `raw:${scope.path}` });
  });
  const sub = makeApp();
  sub.get("/ping", ({ scope }) => ({ root: scope.rootPath, path: scope.path }));
  app.mount("/v2", sub);
  const client = new TestClient(app);

  const raw = await client.get("/raw/a/b");
  t.equal(raw.text, "raw:/a/b");
  t.strictSame(seen, [{ path: "/a/b", rootPath: "/raw" }]);

  const ping = await client.get("/v2/ping");
  t.strictSame(ping.json(), { root: "/v2", path: "/ping" });
  t.equal((await client.get("/v2/nope")).status, 404, "the sub-app's own 404");
});

t.test("middleware wraps in the order added (the onion)", async (t) => {
  const app = makeApp();
  const trace: string[] = [];
  for (const name of ["outer", "inner"]) {
    app.use((next) => async (scope, receive, send) => {
      trace.push(`${name}:in`);
      await next(scope, receive, async (event) => {
        if (event.type === "http.response.start") event.headers.push(["x-seen-by", name]);
        return send(event);
      });
      trace.push(`${name}:out`);
    });
  }
  app.get("/", () => {
    trace.push("handler");
    return {};
  });
  const res = await new TestClient(app).get("/");
  t.strictSame(trace, ["outer:in", "inner:in", "handler", "inner:out", "outer:out"]);
  t.equal(res.headers["x-seen-by"], "inner, outer");
});

t.test("a middleware can answer early without reaching the router", async (t) => {
  const app = makeApp();
  let reached = false;
  app.use(() => async (_scope, _receive, send) => {
    await send({ type: "http.response.start", status: 503, headers: [] });
    await send({ type: "http.response.body", body: "" });
  });
  app.get("/", () => {
    reached = true;
    return {};
  });
  t.equal((await new TestClient(app).get("/")).status, 503);
  t.notOk(reached);
});

t.test("path parameters reach the handler typed and coerced", async (t) => {
  const app = makeApp();
  app.get("/books/{id}", { params: Type.Object({ id: Type.Integer() }) }, ({ params }) => ({ id: params.id, type: typeof params.id }));
  app.get("/files/{rest:path}", ({ params }) => ({ rest: params.rest }));
  const client = new TestClient(app);
  t.strictSame((await client.get("/books/42")).json(), { id: 42, type: "number" });
  t.strictSame((await client.get("/files/a/b/c.txt")).json(), { rest: "a/b/c.txt" });
  t.strictSame((await client.get("/files/%E2%82%AC%20x")).json(), { rest: "€ x" }, "decoded once");
});

t.test("routes declared after the first request are served and documented", async (t) => {
  const app = makeApp();
  app.get("/first", () => ({ n: 1 }));
  const client = new TestClient(app);
  t.equal((await client.get("/first")).status, 200);
  t.equal((await client.get("/later")).status, 404);
  t.notOk(app.openapi().paths["/later"]);

  app.get("/later", () => ({ n: 2 }));
  const later = await client.get("/later");
  t.equal(later.status, 200, "a route added after the pipeline was built");
  t.same(later.json(), { n: 2 });
  t.ok(app.openapi().paths["/later"], "and the cached document is regenerated");

  const router = new APIRouter({ prefix: "/more" });
  router.get("/x", () => "x");
  app.include(router);
  t.equal((await client.get("/more/x")).status, 200, "an included router too");
});
