import t from "tap";
import { App, TestClient, silentLogger, LifespanRunner, LifespanStartupError } from "../../lib/index.js";

t.test("lifespan state reaches every request's scope, teardown runs on stop", async (t) => {
  const events: string[] = [];
  const app = new App({
    logger: silentLogger,
    async *lifespan() {
      events.push("startup");
      yield { pool: { name: "db" } };
      events.push("shutdown");
    },
  });
  app.get("/", ({ scope }) => ({ pool: (scope.state.pool as { name: string }).name }));
  const client = new TestClient(app);
  await client.start();
  t.strictSame((await client.get("/")).json(), { pool: "db" });
  t.strictSame(events, ["startup"]);
  await client.stop();
  t.strictSame(events, ["startup", "shutdown"]);
});

t.test("each request gets its own shallow copy of the state", async (t) => {
  const app = new App({
    logger: silentLogger,
    async *lifespan() {
      yield { counter: 0 };
    },
  });
  app.get("/", ({ scope }) => {
    scope.state.counter = (scope.state.counter as number) + 1;
    return { counter: scope.state.counter };
  });
  const client = new TestClient(app);
  await client.start();
  t.strictSame((await client.get("/")).json(), { counter: 1 });
  t.strictSame((await client.get("/")).json(), { counter: 1 }, "a request cannot replace what the next one sees");
  await client.stop();
});

t.test("a startup failure rejects with the app's error", async (t) => {
  const app = new App({
    logger: silentLogger,
    // eslint-disable-next-line require-yield
    async *lifespan() {
      throw new Error("database unreachable");
    },
  });
  const runner = new LifespanRunner(app.handle);
  await t.rejects(runner.startup(), LifespanStartupError);
  await t.rejects(new LifespanRunner(app.handle).startup(), /database unreachable/);
  await t.rejects(app.listen({ port: 0 }), /database unreachable/, "listen refuses to serve");
});

t.test("an app that does not speak lifespan is tolerated", async (t) => {
  const runner = new LifespanRunner(async (scope) => {
    if (scope.type === "lifespan") throw new Error("lifespan not supported");
  });
  t.strictSame(await runner.startup(), {});
  await runner.shutdown();
});

t.test("a failing teardown is reported by shutdown", async (t) => {
  const app = new App({
    logger: silentLogger,
    async *lifespan() {
      yield;
      throw new Error("flush failed");
    },
  });
  const runner = new LifespanRunner(app.handle);
  await runner.startup();
  await t.rejects(runner.shutdown(), /flush failed/);
});
