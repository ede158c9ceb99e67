import t from "tap";
import { App, TestClient, silentLogger, type Logger, Type, HttpException, JSONResponse } from "../../../lib/index.js";

function capturingLogger(): Logger & { errors: Array<{ obj: object; msg?: string }> } {
  const errors: Array<{ obj: object; msg?: string }> = [];
  return { ...silentLogger, errors, error: (obj: object, msg?: string) => errors.push({ obj, msg }) };
}

t.test("a handler that throws gives a 500 without a stack, logged, and the app keeps serving", async (t) => {
  const logger = capturingLogger();
  const app = new App({ logger });
  app.get("/boom", () => {
    throw new Error("secret internal detail");
  });
  app.get("/ok", () => ({ ok: true }));
  const client = new TestClient(app);
  const res = await client.get("/boom");
  t.equal(res.status, 500);
  t.strictSame(res.json(), { detail: "Internal Server Error" });
  t.notMatch(res.text, /secret internal detail/);
  t.notMatch(res.text, /at /);
  t.equal(logger.errors.length, 1);
  t.equal(((logger.errors[0]!.obj as { err: Error }).err).message, "secret internal detail");
  t.equal((await client.get("/ok")).status, 200);
});

t.test("debug mode puts the error in the 500 body", async (t) => {
  const app = new App({ logger: silentLogger, debug: true });
  app.get("/boom", async () => {
    throw new TypeError("visible in debug");
  });
  const res = await new TestClient(app).get("/boom");
  t.equal(res.status, 500);
  const body = res.json<{ error: { name: string; message: string; stack: string } }>();
  t.equal(body.error.name, "TypeError");
  t.equal(body.error.message, "visible in debug");
  t.match(body.error.stack, /errors\.test/);
});

t.test("a value that cannot be serialized is a clean 500 and a clear log line", async (t) => {
  const logger = capturingLogger();
  const app = new App({ logger });
  app.get("/bigint", () => ({ n: 10n }));
  app.get("/circular", () => {
    const a: Record<string, unknown> = {};
    a.self = a;
    return a;
  });
  app.get("/schema", { response: Type.Object({ id: Type.Integer(), name: Type.String() }) }, () => ({ id: 1 }) as never);
  const client = new TestClient(app);
  for (const path of ["/bigint", "/circular", "/schema"]) {
    const res = await client.get(path);
    t.equal(res.status, 500, path);
    t.strictSame(res.json(), { detail: "Internal Server Error" }, `${path}: a whole, valid body`);
  }
  t.equal(logger.errors.length, 3);
  for (const entry of logger.errors) t.match(String((entry.obj as { err: Error }).err), /serialize/i);
});

class DomainError extends Error {}
class OutOfStock extends DomainError {}

t.test("exception handlers are found by class, nearest first", async (t) => {
  const app = new App({ logger: silentLogger });
  app.exceptionHandler(DomainError, (error) => new JSONResponse({ kind: "domain", message: error.message }, { status: 409 }));
  app.get("/domain", () => {
    throw new DomainError("generic");
  });
  app.get("/stock", () => {
    throw new OutOfStock("sold out");
  });
  const client = new TestClient(app);
  t.strictSame((await client.get("/domain")).json(), { kind: "domain", message: "generic" });
  const stock = await client.get("/stock");
  t.equal(stock.status, 409, "subclass handled by the base class's handler");
  app.exceptionHandler(OutOfStock, () => new JSONResponse({ kind: "stock" }, { status: 410 }));
  t.equal((await client.get("/stock")).status, 410, "a more specific handler wins");
});

t.test("HttpException overrides can be registered too", async (t) => {
  const app = new App({ logger: silentLogger });
  app.exceptionHandler(HttpException, (error) => new JSONResponse({ error: error.detail }, { status: error.status }));
  const res = await new TestClient(app).get("/nowhere");
  t.equal(res.status, 404);
  t.strictSame(res.json(), { error: "Not Found" });
});

t.test("an error after the response started is re-raised (the server closes the connection)", async (t) => {
  const logger = capturingLogger();
  const app = new App({ logger });
  app.mount("/raw", async (scope, _receive, send) => {
    if (scope.type !== "http") return;
    await send({ type: "http.response.start", status: 200, headers: [] });
    await send({ type: "http.response.body", body: "partial", moreBody: true });
    throw new Error("died mid-stream");
  });
  const client = new TestClient(app);
  await t.rejects(client.get("/raw/x"), /died mid-stream/);
  const quiet = new TestClient(app, { raiseServerExceptions: false });
  const res = await quiet.get("/raw/x");
  t.equal(res.status, 200);
  t.equal(res.complete, false, "the response was never completed");
  t.ok(logger.errors.length >= 1);
});

t.test("a thrown non-Error value is still a 500", async (t) => {
  const app = new App({ logger: silentLogger });
  app.get("/string", () => {
    throw "just a string";
  });
  t.equal((await new TestClient(app).get("/string")).status, 500);
});

t.test("the same answers whether or not user middleware sits between the error and exception layers", async (t) => {
  // Without user middleware the two layers share one frame; with it they are separate. Same behaviour.
  for (const withMiddleware of [false, true]) {
    const logger = capturingLogger();
    const app = new App({ logger });
    if (withMiddleware) app.use((next) => (scope, receive, send) => next(scope, receive, send));
    app.exceptionHandler(DomainError, () => new JSONResponse({ kind: "domain" }, { status: 409 }));
    app.exceptionHandler(OutOfStock, () => {
      throw new Error("the handler itself failed");
    });
    app.get("/http", () => {
      throw new HttpException(404, "nope");
    });
    app.get("/domain", () => {
      throw new DomainError("x");
    });
    app.get("/handler-fails", () => {
      throw new OutOfStock("y");
    });
    app.get("/plain", () => {
      throw new Error("z");
    });
    app.get("/serialize", () => ({ n: 1n }));
    const client = new TestClient(app);
    const label = withMiddleware ? "with middleware" : "without middleware";
    t.equal((await client.get("/http")).status, 404, label);
    t.equal((await client.get("/domain")).status, 409, label);
    t.equal((await client.get("/handler-fails")).status, 500, label);
    t.equal((await client.get("/plain")).status, 500, label);
    t.equal((await client.get("/serialize")).status, 500, label);
    t.strictSame(
      logger.errors.map((e) => ((e.obj as { err: Error }).err).message),
      ["the handler itself failed", "z", "Could not serialize the response of GET /serialize: Do not know how to serialize a BigInt"],
      `${label}: what was logged`,
    );
  }
});
