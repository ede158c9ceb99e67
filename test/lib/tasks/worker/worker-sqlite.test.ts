/**
 * The worker on the SQLite broker and backend (one temporary file): the paths whose broker calls
 * differ most (ack before/after, release with a replacement for a retry, dead letters, chord
 * bookkeeping, release at graceful stop) behave as on the memory broker.
 */
import t from "tap";
import { newTaskId, type Signature } from "../../../../lib/tasks/message.js";
import { gate, message, ready, setup, until } from "./harness.js";

t.test("success, failure with a dead letter, retries with both ack modes", async (t) => {
  const { broker, backend, registry, makeWorker } = setup(t, "sqlite");
  registry.define("add", (_ctx, x: number, y: number) => x + y);
  registry.define("bad", () => {
    throw new RangeError("nope");
  }, { acksLate: true });
  for (const acksLate of [false, true]) {
    registry.define(`flaky.${acksLate}`, (ctx) => {
      if (ctx.retries < 2) throw ctx.retry({ countdown: 0.002 });
      return ctx.retries;
    }, { acksLate });
  }
  makeWorker().start();
  const ok = message("add", [20, 22]);
  const bad = message("bad");
  const f1 = message("flaky.false");
  const f2 = message("flaky.true");
  await broker.publishMany([ok, bad, f1, f2]);
  t.equal((await ready(backend, ok.id)).result, 42);
  const failed = await ready(backend, bad.id);
  t.equal(failed.error?.type, "RangeError");
  t.equal((await ready(backend, f1.id)).result, 2);
  t.equal((await ready(backend, f2.id)).result, 2);
  await until(async () => (await broker.deadLetters(5)).length === 1, "dead letter");
  t.equal((await broker.deadLetters(5))[0]?.reason, "RangeError: nope");
  await until(async () => {
    const stats = (await broker.stats()).find((s) => s.queue === "celery");
    return stats !== undefined && stats.ready + stats.leased + stats.delayed === 0;
  }, "queue empty");
});

t.test("chord on SQLite: results in member order, callback once", async (t) => {
  const { broker, backend, registry, makeWorker } = setup(t, "sqlite");
  registry.define("sq", (_ctx, x: number) => x * x);
  registry.define("sum", (_ctx, xs: number[]) => xs.reduce((a, b) => a + b, 0));
  makeWorker({ concurrency: 8 }).start();
  const callback: Signature = { task: "sum", id: newTaskId(), args: [], kwargs: {}, options: {} };
  const groupId = newTaskId();
  const members = [1, 2, 3, 4].map((x, index) => message("sq", [x], { group: { id: groupId, index, size: 4 }, chord: callback }));
  await backend.saveGroup(groupId, members.map((m) => m.id));
  await broker.publishMany(members);
  t.equal((await ready(backend, callback.id)).result, 30);
  t.equal(registry.callsOf("sum"), 1);
});

t.test("graceful stop on SQLite releases a rate-limited waiter to another worker", async (t) => {
  const { broker, backend, registry, makeWorker } = setup(t, "sqlite");
  const held = gate();
  registry.define("long", () => held.promise.then(() => "done"), { acksLate: true });
  registry.define("limited", () => "ran", { rateLimit: "1/h" });
  const first = makeWorker({ id: "first" });
  first.start();
  const long = message("long");
  const l1 = message("limited");
  const l2 = message("limited");
  await broker.publishMany([long, l1, l2]);
  await ready(backend, l1.id);
  await until(async () => (await broker.stats()).find((s) => s.queue === "celery")?.leased === 2, "long and l2 leased");
  const stopping = first.stop({ gracefulTimeoutMs: 60_000 });
  await until(async () => (await broker.stats()).find((s) => s.queue === "celery")?.ready === 1, "l2 released");
  held.open();
  await stopping;
  t.equal((await backend.get(long.id))?.result, "done");
  makeWorker({ id: "second" }).start();
  const meta = await ready(backend, l2.id);
  t.equal(meta.worker, "second");
});
