/**
 * Background tasks: they run after the response has reached the client, in the order added,
 * before the dependencies' after-response cleanups (so a task can still use what a cleanup
 * closes); a failing task is logged with the request ID and the others run; a failed request
 * runs none; a graceful close waits for them before the lifespan shutdown. Real sockets on both
 * servers where the order against the wire matters.
 */
import t from "tap";
import { pino } from "pino";
import { request } from "undici";
import { App, TestClient, HttpException, dependency, silentLogger, Type } from "../../../lib/index.js";
import { loadUws } from "../../../layers/server/uws-load.js";
import { backgroundTasks } from "../../../layers/handler/background-tasks.js";
import { requestId } from "../../../layers/middleware/request-id.js";

let uwsMissing: string | false = false;
try {
  loadUws();
} catch (error) {
  uwsMissing = `uWebSockets.js unavailable: ${(error as Error).message}`;
}

/** A promise with its resolver, for gating a task on what the test has seen. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** Waits (bounded) until `predicate` holds. */
async function until(predicate: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

t.test("tasks run in order, after the handler, before after-response cleanups, with their arguments", async (t) => {
  const log: string[] = [];
  const db = dependency({}, async function* () {
    log.push("db open");
    yield { query: (q: string) => log.push(`query ${q}`) };
    log.push("db closed");
  });
  const app = new App({ logger: silentLogger });
  app.post("/signup", { deps: { db } }, ({ deps, background }) => {
    background.add((to: string) => void log.push(`mail ${to}`), "ada@example.com");
    background.add(async (n: number) => {
      await new Promise((resolve) => setImmediate(resolve));
      deps.db.query(`audit ${n}`);
    }, 7);
    log.push("handler");
    return { ok: true };
  });
  const response = await new TestClient(app).post("/signup");
  t.equal(response.status, 200);
  t.strictSame(log, ["db open", "handler", "mail ada@example.com", "query audit 7", "db closed"], "tasks in order, the cleanup last");
});

t.test("a dependency can add tasks through the scope; they run with the handler's", async (t) => {
  const log: string[] = [];
  const audited = dependency({}, ({ scope }) => {
    backgroundTasks(scope).add(() => void log.push("from dependency"));
    return true;
  });
  const app = new App({ logger: silentLogger });
  app.get("/", { deps: { audited } }, ({ background }) => {
    background.add(() => void log.push("from handler"));
    return {};
  });
  await new TestClient(app).get("/");
  t.strictSame(log, ["from dependency", "from handler"]);
});

t.test("a failing task is logged with the request ID and the next one still runs", async (t) => {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: "info", base: null }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  const ran: string[] = [];
  const app = new App({ logger });
  app.wrap(requestId());
  app.get("/", ({ background }) => {
    background.add(() => {
      throw new Error("smtp down");
    });
    background.add(() => void ran.push("second"));
    return { ok: true };
  });
  const response = await new TestClient(app).get("/", { headers: { "x-request-id": "req-42" } });
  t.equal(response.status, 200, "the response is not affected");
  t.strictSame(ran, ["second"]);
  const errorLine = lines.find((line) => line.msg === "error in after-response task");
  t.ok(errorLine, "the failure is logged");
  t.equal(errorLine?.requestId, "req-42", "with the request ID");
  t.match((errorLine?.err as { message?: string } | undefined)?.message, /smtp down/);
});

t.test("no task runs when the request failed: handler error, validation error, HttpException", async (t) => {
  const ran: string[] = [];
  const adds = dependency({}, ({ scope }) => {
    backgroundTasks(scope).add(() => void ran.push("dependency task"));
    return 1;
  });
  const app = new App({ logger: silentLogger });
  app.get("/boom", ({ background }) => {
    background.add(() => void ran.push("boom"));
    throw new Error("handler failed");
  });
  app.get("/denied", ({ background }) => {
    background.add(() => void ran.push("denied"));
    throw new HttpException(403);
  });
  app.get("/invalid", { deps: { adds }, query: Type.Object({ n: Type.Integer() }) }, () => ({}));
  const client = new TestClient(app, { raiseServerExceptions: false });
  t.equal((await client.get("/boom")).status, 500);
  t.equal((await client.get("/denied")).status, 403);
  t.equal((await client.get("/invalid?n=x")).status, 422);
  t.strictSame(ran, [], "nothing ran");
});

t.test("a failing after-handler cleanup (a commit) drops the tasks", async (t) => {
  const ran: string[] = [];
  const tx = dependency({ exit: "after-handler" }, function* () {
    yield 1;
    throw new Error("commit failed");
  });
  const app = new App({ logger: silentLogger });
  app.post("/", { deps: { tx } }, ({ background }) => {
    background.add(() => void ran.push("task"));
    return {};
  });
  const response = await new TestClient(app, { raiseServerExceptions: false }).post("/");
  t.equal(response.status, 500);
  t.strictSame(ran, []);
});

t.test("a background getter on a WebSocket scope is refused", async (t) => {
  t.throws(
    () => backgroundTasks({ type: "websocket" } as never),
    TypeError,
  );
});

for (const server of ["node", "uws"] as const) {
  t.test(`on ${server}: the client has the response while the task is still running; close waits for it`, { skip: server === "uws" ? uwsMissing : false }, async (t) => {
    const release = gate();
    const events: string[] = [];
    const app = new App({
      logger: silentLogger,
      server,
      lifespan: async function* () {
        yield {};
        events.push("lifespan shutdown");
      },
    });
    app.get("/report", ({ background }) => {
      background.add(async () => {
        events.push("task started");
        await release.promise;
        events.push("task done");
      });
      return { queued: true };
    });
    const { url } = await app.listen({ host: "127.0.0.1", port: 0 });
    const response = await request(`${url}/report`);
    t.same(await response.body.json(), { queued: true }, "the response arrived");
    await until(() => events.includes("task started"), "the task to start");
    t.strictSame(events, ["task started"], "while the task is still waiting");

    const closed = app.close({ timeout: 5_000 }).then(() => events.push("closed"));
    // The close must not finish (nor run the lifespan shutdown) while the task runs.
    await new Promise((resolve) => setTimeout(resolve, 50));
    t.notOk(events.includes("closed"), "close is still waiting");
    release.open();
    await closed;
    t.strictSame(events, ["task started", "task done", "lifespan shutdown", "closed"], "the task finished before the lifespan shutdown");
  });
}

t.test("close gives up on a task that outlives its timeout, logs it, and still shuts down", async (t) => {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: "info", base: null }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  const app = new App({ logger });
  const never = gate();
  let started = false;
  app.get("/", ({ background }) => {
    background.add(async () => {
      started = true;
      await never.promise;
    });
    return {};
  });
  const { url } = await app.listen({ host: "127.0.0.1", port: 0 });
  await (await request(url)).body.text();
  await until(() => started, "the task to start");
  await app.close({ timeout: 100 });
  t.ok(lines.some((line) => line.msg === "graceful close timed out with background work still running" && line.running === 1), "logged with the count");
  never.open();
});
