/**
 * End to end on the memory broker: what the publishing side builds, run by a real Worker (the
 * worker's own behaviour is tested in test/lib/tasks/worker/). Every wait is bounded by a get() timeout.
 */
import t, { type Test } from "tap";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Type } from "@sinclair/typebox";
import { TaskRevokedError } from "../../../lib/errors.js";
import { silentLogger } from "../../../lib/logger.js";
import { chain, chord, group } from "../../../lib/tasks/canvas.js";
import { currentTask } from "../../../lib/tasks/current-task.js";
import { MemoryResultBackend } from "../../../lib/tasks/memory/memory-backend.js";
import { MemoryBroker } from "../../../lib/tasks/memory/memory-broker.js";
import { newTaskId } from "../../../lib/tasks/message.js";
import { SqliteResultBackend } from "../../../lib/tasks/sqlite/sqlite-backend.js";
import { SqliteBroker } from "../../../lib/tasks/sqlite/sqlite-broker.js";
import { TaskFailedError } from "../../../lib/tasks/task-error.js";
import { TaskQueue } from "../../../lib/tasks/task-queue.js";
import { Worker } from "../../../lib/tasks/worker/worker.js";

const WAIT = { timeout: 10 };

class InventoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InventoryError";
  }
}

function setup(t: Test) {
  const queue = new TaskQueue({ broker: new MemoryBroker(), backend: new MemoryResultBackend() });
  const add = queue.task("math.add", (x: number, y: number) => x + y);
  const mul = queue.task("math.mul", (x: number, y: number) => x * y);
  const sum = queue.task("math.sum", (xs: number[]) => xs.reduce((a, b) => a + b, 0));
  const slowEcho = queue.task("echo.slow", async (value: number, ms: number) => {
    await sleep(ms);
    return value;
  });
  const reserve = queue.task("stock.reserve", (sku: string) => {
    throw new InventoryError(`no stock for ${sku}`);
  });
  const whoami = queue.task("whoami", async () => {
    const ctx = currentTask();
    await sleep(1);
    return { id: ctx.id, rootId: ctx.rootId, parentId: ctx.parentId ?? null, groupId: ctx.groupId ?? null, same: currentTask().id === ctx.id };
  });
  const worker = new Worker(queue, { concurrency: 8, logger: silentLogger, heartbeatMs: 50, revocationPollMs: 5 });
  worker.start();
  t.teardown(async () => {
    await worker.stop({ gracefulTimeoutMs: 0 });
    await queue.close();
  });
  return { queue, add, mul, sum, slowEcho, reserve, whoami, worker };
}

t.test("delay → the worker runs it → get() returns the typed result", async (t) => {
  const { add, whoami } = setup(t);
  const result = await add.delay(2, 3);
  const value: number = await result.get(WAIT);
  t.equal(value, 5);
  t.equal(await result.state(), "SUCCESS");
  const me = await whoami.delay();
  t.match(await me.get(WAIT), { id: me.id, rootId: me.id, parentId: null, groupId: null, same: true }, "currentTask() inside the worker");
});

t.test("a failing task: get() throws its error rebuilt with type, message and stack", async (t) => {
  const { reserve } = setup(t);
  const result = await reserve.delay("sku-1");
  const error = (await t.rejects(result.get(WAIT))) as unknown as TaskFailedError;
  t.ok(error instanceof TaskFailedError);
  t.equal(error.name, "InventoryError");
  t.equal(error.message, "no stock for sku-1");
  t.match(error.stack, /InventoryError: no stock for sku-1/);
  t.match(error.stack, /canvas-worker\.test\.ts/, "the stack of where it was thrown");
  t.equal(await result.state(), "FAILURE");
});

t.test("kwargs reach the function as one extra last argument", async (t) => {
  const { queue } = setup(t);
  queue.task("greet", (name: string, options?: { polite?: boolean }) => (options?.polite ? `Good day, ${name}` : `hi ${name}`));
  t.equal(await (await queue.sendTask("greet", { args: ["Ada"], kwargs: { polite: true } })).get(WAIT), "Good day, Ada");
  t.equal(await (await queue.sendTask("greet", { args: ["Ada"] })).get(WAIT), "hi Ada");
});

t.test("a message forged past the publisher's check fails at execution with TaskArgumentsError", async (t) => {
  const { queue } = setup(t);
  const square = queue.task("square", (x: number) => x * x, { argsSchema: Type.Tuple([Type.Number()]) });
  const id = newTaskId();
  await queue.broker.publish({ id, task: "square", args: ["seven"], kwargs: {}, queue: "celery", priority: 0, retries: 0, rootId: id, publishedAt: Date.now() });
  const error = (await t.rejects(queue.asyncResult(id).get(WAIT))) as unknown as Error;
  t.equal(error.name, "TaskArgumentsError");
  t.match(error.message, /square.*args\[0\]/);
  t.equal(await (await square.delay(7)).get(WAIT), 49);
});

t.test("chain: each link receives the previous result; ids and the workflow's root are kept", async (t) => {
  const { add, mul, whoami, queue } = setup(t);
  const result = await chain(add.s(2, 3), mul.s(10), add.s(1)).applyAsync();
  t.equal(await result.get(WAIT), 51);
  const first = add.s(1, 1);
  queue.task("ctx.after", (_previous: number) => {
    const ctx = currentTask();
    return { id: ctx.id, rootId: ctx.rootId, parentId: ctx.parentId };
  });
  const after = queue.signature("ctx.after");
  const traced = await chain(first, after).applyAsync();
  t.same(await traced.get(WAIT), { id: after.id, rootId: first.id, parentId: first.id });
  t.ok(whoami);
});

t.test("chain: a failing link fails the chain's result with its error; later links never run", async (t) => {
  const { add, queue } = setup(t);
  let ran = 0;
  queue.task("never", (_x: unknown) => ++ran);
  const explode = queue.task("explode", (_x: number): number => {
    throw new RangeError("too big");
  });
  const result = await chain(add.s(1, 2), explode.s(), queue.signature("never")).applyAsync();
  const error = (await t.rejects(result.get(WAIT))) as unknown as Error;
  t.equal(error.name, "RangeError");
  t.equal(error.message, "too big");
  t.equal(ran, 0);
});

t.test("group: results in the group's order whatever order they finish in", async (t) => {
  const { slowEcho } = setup(t);
  const delays = [40, 5, 25, 0, 15];
  const results = await group(delays.map((ms, i) => slowEcho.s(i, ms))).applyAsync();
  t.same(await results.get(WAIT), [0, 1, 2, 3, 4]);
  t.equal(await results.completedCount(), 5);
  t.equal(await results.ready(), true);
});

t.test("chord: the callback receives the header's results in order", async (t) => {
  const { slowEcho, sum, add, whoami } = setup(t);
  const total = await chord([slowEcho.s(1, 30), slowEcho.s(2, 0), add.s(3, 4)], sum.s()).applyAsync();
  t.equal(await total.get(WAIT), 10);
  const header = group(whoami.s(), whoami.s());
  const contexts = await (await header.applyAsync()).get(WAIT);
  t.ok(contexts.every((ctx) => ctx.groupId === header.id), "members see their group id");
});

t.test("chord: a failing member fails the callback with the member's error; the callback never runs", async (t) => {
  const { add, reserve, queue } = setup(t);
  let callbackRan = false;
  const collect = queue.task("collect", (results: unknown[]) => {
    callbackRan = true;
    return results.length;
  });
  const result = await chord([add.s(1, 1), reserve.s("sku-9")], collect.s()).applyAsync();
  const error = (await t.rejects(result.get(WAIT))) as unknown as TaskFailedError;
  t.equal(error.name, "InventoryError");
  t.equal(error.message, "no stock for sku-9");
  t.equal(callbackRan, false);
});

t.test("revoke of a task waiting for its countdown: it never runs", async (t) => {
  const { queue } = setup(t);
  let runs = 0;
  const count = queue.task("count", () => ++runs);
  const later = await count.applyAsync({ countdown: 0.05 });
  await later.revoke();
  const marker = await count.applyAsync({ countdown: 0.1 });
  await marker.get(WAIT); // ran after the revoked one was due
  t.equal(runs, 1, "only the marker ran");
  await t.rejects(later.get(WAIT), TaskRevokedError);
});

t.test("expires already past at publish: the worker marks it REVOKED", async (t) => {
  const { add } = setup(t);
  const result = await add.applyAsync({ args: [1, 1], expires: new Date(Date.now() - 1000) });
  await t.rejects(result.get(WAIT), TaskRevokedError);
  t.equal(await result.state(), "REVOKED");
});

t.test("on the SQLite broker and backend: a chain, a group and a chord", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "laminar-canvas-"));
  const path = join(dir, "tasks.db");
  const queue = new TaskQueue({ broker: new SqliteBroker({ path }), backend: new SqliteResultBackend({ path }) });
  const add = queue.task("math.add", (x: number, y: number) => x + y);
  const mul = queue.task("math.mul", (x: number, y: number) => x * y);
  const sum = queue.task("math.sum", (xs: number[]) => xs.reduce((a, b) => a + b, 0));
  const worker = new Worker(queue, { concurrency: 4, logger: silentLogger, heartbeatMs: 50, revocationPollMs: 5 });
  worker.start();
  t.teardown(async () => {
    await worker.stop({ gracefulTimeoutMs: 0 });
    await queue.close();
    rmSync(dir, { recursive: true, force: true });
  });
  t.equal(await (await chain(add.s(1, 2), mul.s(3)).applyAsync()).get(WAIT), 9);
  t.same(await (await group([1, 2, 3].map((n) => mul.s(n, n))).applyAsync()).get(WAIT), [1, 4, 9]);
  t.equal(await (await chord([add.s(1, 1), mul.s(2, 3)], sum.s()).applyAsync()).get(WAIT), 8);
});
