/**
 * The worker on the memory broker and backend: outcomes, acks, checks before running, limits,
 * revocation, concurrency, heartbeats and maxTasks. Tasks are held on gates the tests open; every
 * wait is a bounded poll, never a timing assertion.
 */
import t from "tap";
import type { QueueStats } from "../../../../lib/tasks/broker.js";
import { Worker } from "../../../../lib/tasks/worker/worker.js";
import { gate, message, ready, setup, until } from "./harness.js";

const queueStats = async (broker: { stats(): Promise<QueueStats[]> }): Promise<QueueStats> =>
  (await broker.stats()).find((s) => s.queue === "celery") ?? { queue: "celery", ready: 0, delayed: 0, leased: 0, dead: 0 };

t.test("success: STARTED while running, then SUCCESS with the result, and the message is gone", async (t) => {
  const { broker, backend, registry, makeWorker } = setup(t);
  const held = gate();
  registry.define("math.add", async (_ctx, x: number, y: number) => {
    await held.promise;
    return x + y;
  });
  const worker = makeWorker({ id: "w-success" });
  const m = message("math.add", [2, 3]);
  await broker.publish(m);
  worker.start();
  worker.start(); // idempotent
  await until(async () => (await backend.get(m.id))?.state === "STARTED", "STARTED stored");
  t.same(worker.running().map((r) => [r.id, r.task]), [[m.id, "math.add"]]);
  held.open();
  const meta = await ready(backend, m.id);
  t.equal(meta.state, "SUCCESS");
  t.equal(meta.result, 5);
  t.equal(meta.worker, "w-success");
  t.equal(meta.name, "math.add");
  t.type(meta.dateDone, "string");
  await until(() => worker.processed === 1, "processed counted");
  const stats = await queueStats(broker);
  t.same([stats.ready, stats.leased, stats.delayed, stats.dead], [0, 0, 0, 0], "acked: nothing left in the queue");
  t.equal(registry.callsOf("math.add"), 1);
  t.same(worker.running(), []);
});

t.test("a task returning undefined stores null; trackStarted false stores no STARTED", async (t) => {
  const { broker, backend, registry, makeWorker } = setup(t);
  const held = gate();
  registry.define("nothing", async () => {
    await held.promise;
  });
  const states: string[] = [];
  const store = backend.store.bind(backend);
  backend.store = async (meta) => {
    states.push(meta.state);
    return store(meta);
  };
  makeWorker({ trackStarted: false }).start();
  const m = message("nothing");
  await broker.publish(m);
  await until(() => registry.callsOf("nothing") === 1, "task running");
  t.equal(await backend.get(m.id), undefined, "still PENDING while it runs");
  held.open();
  const meta = await ready(backend, m.id);
  t.equal(meta.result, null);
  t.same(states, ["SUCCESS"]);
});

t.test("a throwing task: FAILURE with its type, message and stack; acksLate dead-letters it with the reason", async (t) => {
  const { broker, backend, registry, makeWorker } = setup(t);
  class PaymentDeclined extends Error {
    code = "card_declined";
  }
  registry.define("pay", () => {
    throw new PaymentDeclined("card 4242 declined");
  }, { acksLate: true });
  registry.define("pay.early", () => {
    throw new TypeError("boom");
  });
  makeWorker().start();
  const late = message("pay", [10]);
  const early = message("pay.early");
  await broker.publishMany([late, early]);
  const meta = await ready(backend, late.id);
  t.equal(meta.state, "FAILURE");
  t.equal(meta.error?.type, "PaymentDeclined");
  t.equal(meta.error?.message, "card 4242 declined");
  t.match(meta.error?.stack, /card 4242 declined\n\s+at /);
  t.same(meta.error?.data, { code: "card_declined" });
  const earlyMeta = await ready(backend, early.id);
  t.equal(earlyMeta.error?.type, "TypeError");
  await until(async () => (await queueStats(broker)).dead === 1, "dead-lettered");
  const [letter] = await broker.deadLetters(10);
  t.equal(letter?.message.id, late.id, "only the acksLate one: the other was acked before it ran");
  t.equal(letter?.reason, "PaymentDeclined: card 4242 declined");
  const stats = await queueStats(broker);
  t.same([stats.ready, stats.leased], [0, 0]);
});

t.test("acksLate false acks before the task runs; acksLate true only after the outcome is stored", async (t) => {
  const { broker, backend, registry, makeWorker } = setup(t);
  const early = gate();
  const late = gate();
  registry.define("early", () => early.promise);
  registry.define("late", () => late.promise, { acksLate: true });
  makeWorker().start();
  const e = message("early");
  await broker.publish(e);
  await until(() => registry.callsOf("early") === 1, "early running");
  t.same(await queueStats(broker), { queue: "celery", ready: 0, delayed: 0, leased: 0, dead: 0 }, "acked while running");
  early.open();
  await ready(backend, e.id);

  const acks: string[] = [];
  const ack = broker.ack.bind(broker);
  broker.ack = async (delivery) => {
    acks.push(`${delivery.message.id}:${(await backend.get(delivery.message.id))?.state}`);
    return ack(delivery);
  };
  const l = message("late");
  await broker.publish(l);
  await until(() => registry.callsOf("late") === 1, "late running");
  t.equal((await queueStats(broker)).leased, 1, "still leased while running");
  late.open();
  await ready(backend, l.id);
  await until(() => acks.length === 1, "late acked");
  t.same(acks, [`${l.id}:SUCCESS`], "the ack came after SUCCESS was stored");
  t.equal((await queueStats(broker)).leased, 0);
});

t.test("an unknown task: FAILURE with NotRegistered, dead-lettered", async (t) => {
  const { broker, backend, makeWorker } = setup(t);
  makeWorker().start();
  const m = message("no.such.task", [1]);
  await broker.publish(m);
  const meta = await ready(backend, m.id);
  t.equal(meta.state, "FAILURE");
  t.equal(meta.error?.type, "NotRegistered");
  t.match(meta.error?.message, /no\.such\.task/);
  await until(async () => (await broker.deadLetters(1)).length === 1, "dead letter");
  t.match((await broker.deadLetters(1))[0]?.reason, /^NotRegistered:/);
});

t.test("a malformed message (args not an array) fails with TaskArgumentsError, the function never called", async (t) => {
  const { broker, backend, registry, makeWorker } = setup(t);
  registry.define("f", () => 1);
  makeWorker().start();
  const m = { ...message("f"), args: { 0: 1 } as unknown as unknown[] };
  await broker.publish(m);
  const meta = await ready(backend, m.id);
  t.equal(meta.error?.type, "TaskArgumentsError");
  t.equal(registry.callsOf("f"), 0);
});

t.test("an expired message: REVOKED (reason expired), acked, the function never called", async (t) => {
  const { broker, backend, registry, makeWorker } = setup(t);
  registry.define("f", () => 1);
  const now = 1_000_000;
  makeWorker({ now: () => now }).start();
  const m = message("f", [], { expires: now - 1 });
  const fresh = message("f", [], { expires: now + 60_000 });
  await broker.publishMany([m, fresh]);
  const meta = await ready(backend, m.id);
  t.equal(meta.state, "REVOKED");
  t.equal(meta.error?.type, "TaskRevokedError");
  t.match(meta.error?.message, /expired/);
  t.equal((await ready(backend, fresh.id)).state, "SUCCESS", "one expiring later runs");
  t.equal(registry.callsOf("f"), 1);
  const stats = await queueStats(broker);
  t.same([stats.ready, stats.leased, stats.dead], [0, 0, 0], "acked, not dead-lettered");
});

t.test("revoke with terminate aborts the running task: REVOKED; without terminate it runs on", async (t) => {
  const { broker, backend, registry, makeWorker } = setup(t);
  let reason: unknown;
  registry.define("forever", (ctx) =>
    new Promise((_resolve, reject) =>
      ctx.signal.addEventListener("abort", () => {
        reason = ctx.signal.reason;
        reject(ctx.signal.reason);
      }),
    ),
  );
  const held = gate();
  registry.define("gentle", () => held.promise.then(() => "done"));
  makeWorker().start();
  const victim = message("forever");
  const survivor = message("gentle");
  await broker.publishMany([victim, survivor]);
  await until(() => registry.callsOf("forever") === 1 && registry.callsOf("gentle") === 1, "both running");
  await broker.revoke(survivor.id);
  await broker.revoke(victim.id, { terminate: true });
  const meta = await ready(backend, victim.id);
  t.equal(meta.state, "REVOKED");
  t.equal(meta.error?.type, "TaskRevokedError");
  t.match(meta.error?.message, /terminated/);
  t.equal((reason as Error).name, "TaskRevokedError", "the task's own signal carried the reason");
  held.open();
  t.equal((await ready(backend, survivor.id)).state, "SUCCESS", "revoked without terminate: Celery lets it finish");
});

t.test("a task that ignores its signal is still REVOKED on terminate (the async pool abandons it)", async (t) => {
  const { broker, backend, registry, makeWorker } = setup(t);
  registry.define("deaf", () => new Promise(() => {}), { acksLate: true });
  makeWorker().start();
  const m = message("deaf");
  await broker.publish(m);
  await until(() => registry.callsOf("deaf") === 1, "running");
  await broker.revoke(m.id, { terminate: true });
  t.equal((await ready(backend, m.id)).state, "REVOKED");
  await until(async () => (await queueStats(broker)).leased === 0, "acked");
  t.equal((await queueStats(broker)).ready, 0);
});

t.test("soft time limit: the task's signal aborts with SoftTimeLimitExceeded; uncaught it is a FAILURE", async (t) => {
  const { broker, backend, registry, makeWorker } = setup(t);
  registry.define(
    "slow",
    (ctx) => new Promise((_resolve, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason))),
    { softTimeLimit: 0.005 },
  );
  registry.define("tidy", (ctx) => new Promise((resolve) => ctx.signal.addEventListener("abort", () => resolve(`stopped: ${(ctx.signal.reason as Error).name}`))), {
    softTimeLimit: 60,
  });
  makeWorker().start();
  const m = message("slow");
  // The message's [hard, soft] overrides the task's 60 s.
  const overridden = message("tidy", [], { timeLimit: [null, 0.005] });
  await broker.publishMany([m, overridden]);
  const meta = await ready(backend, m.id);
  t.equal(meta.state, "FAILURE");
  t.equal(meta.error?.type, "SoftTimeLimitExceeded");
  const caught = await ready(backend, overridden.id);
  t.equal(caught.state, "SUCCESS", "a task that catches the soft limit finishes");
  t.equal(caught.result, "stopped: SoftTimeLimitExceeded");
});

t.test("hard time limit: FAILURE with TimeLimitExceeded, even for a task that ignores its signal", async (t) => {
  const { broker, backend, registry, makeWorker } = setup(t);
  registry.define("stuck", () => new Promise(() => {}), { timeLimit: 0.005 });
  registry.define("stuck2", () => new Promise(() => {}));
  makeWorker().start();
  const m = message("stuck");
  const viaMessage = message("stuck2", [], { timeLimit: [0.005, null] });
  await broker.publishMany([m, viaMessage]);
  for (const id of [m.id, viaMessage.id]) {
    const meta = await ready(backend, id);
    t.equal(meta.state, "FAILURE");
    t.equal(meta.error?.type, "TimeLimitExceeded");
  }
});

t.test("concurrency: never more than N running at once, and N are reached", async (t) => {
  const { broker, backend, registry, makeWorker } = setup(t);
  let gauge = 0;
  let peak = 0;
  registry.define("io", async () => {
    gauge++;
    peak = Math.max(peak, gauge);
    await new Promise((resolve) => setTimeout(resolve, 1));
    gauge--;
  });
  const worker = makeWorker({ concurrency: 3 });
  worker.start();
  const messages = Array.from({ length: 40 }, () => message("io"));
  await broker.publishMany(messages);
  for (const m of messages) await ready(backend, m.id);
  t.equal(peak, 3);
  await until(() => worker.processed === 40, "all counted");
});

t.test("maxTasks: onMaxTasks is called once", async (t) => {
  const { broker, backend, registry, makeWorker } = setup(t);
  registry.define("f", () => 1);
  let calls = 0;
  const worker = makeWorker({ maxTasks: 3, onMaxTasks: () => void calls++ });
  worker.start();
  const messages = Array.from({ length: 6 }, () => message("f"));
  await broker.publishMany(messages);
  for (const m of messages) await ready(backend, m.id);
  await until(() => worker.processed === 6, "processed");
  t.equal(calls, 1);
  t.throws(() => new Worker(registry, { maxTasks: 0 }), RangeError, "a maxTasks of 0 is refused");
  t.throws(() => new Worker(registry, { concurrency: 1.5 }), RangeError);
});

t.test("heartbeat: the worker and what it runs are visible; stop() removes it", async (t) => {
  const { broker, registry, makeWorker } = setup(t);
  const held = gate();
  registry.define("f", () => held.promise);
  const worker = makeWorker({ id: "hb-1", queues: ["a", "celery"], concurrency: 4, heartbeatMs: 5 });
  worker.start();
  const m = message("f");
  await broker.publish(m);
  await until(async () => (await broker.workers(60_000)).some((w) => w.id === "hb-1" && w.running.some((r) => r.id === m.id)), "heartbeat with the task");
  const [info] = await broker.workers(60_000);
  t.same(info?.queues, ["a", "celery"]);
  t.equal(info?.concurrency, 4);
  t.equal(info?.pid, process.pid);
  held.open();
  await until(async () => (await broker.workers(60_000)).some((w) => w.id === "hb-1" && w.processed === 1), "processed reported");
  await worker.stop();
  t.same(await broker.workers(60_000), [], "removed at stop");
});

t.test("leases: a long task's lease is extended; a lost lease is logged and its late ack returns false", async (t) => {
  // The broker's clock is fake: leases lapse only when the test moves it, never because the machine is slow.
  let now = 1_000_000;
  const { broker, backend, registry, makeWorker, logger } = setup(t, "memory", { now: () => now });
  const held = gate();
  registry.define("long", () => held.promise, { acksLate: true });
  let renewals = 0;
  const extend = broker.extend.bind(broker);
  broker.extend = async (delivery, ms) => {
    renewals++;
    return extend(delivery, ms);
  };
  makeWorker({ visibilityTimeoutMs: 30 }).start();
  const m = message("long");
  await broker.publish(m);
  await until(() => registry.callsOf("long") === 1, "running");
  // Five lease lengths pass, in steps shorter than one, each followed by a renewal.
  for (let step = 0; step < 10; step++) {
    const seen = renewals;
    now += 15;
    await until(() => renewals > seen, "a renewal");
  }
  t.same(await broker.reserve({ queues: ["celery"], max: 1, visibilityTimeoutMs: 1000, consumer: "thief" }), [], "nobody else could reserve it");
  // Now every extend fails (the lease taken by someone else): logged once, the late ack returns false.
  broker.extend = async () => false;
  const acks: boolean[] = [];
  const ack = broker.ack.bind(broker);
  broker.ack = async (delivery) => {
    const ok = await ack(delivery);
    acks.push(ok);
    return ok;
  };
  now += 1000;
  await broker.reserve({ queues: ["celery"], max: 1, visibilityTimeoutMs: 60_000, consumer: "thief" });
  await until(() => logger.lines.some((l) => l.msg?.startsWith("lease lost") === true), "lease lost logged");
  held.open();
  t.equal((await ready(backend, m.id)).state, "SUCCESS");
  await until(() => acks.length === 1, "late ack");
  t.same(acks, [false], "the thief holds it now: the late ack does nothing");
  t.equal(logger.lines.filter((l) => l.msg?.startsWith("lease lost") === true).length, 1, "logged once, not on every renewal");
});

t.test("a backend or broker call that throws is logged and the worker goes on", async (t) => {
  const { broker, backend, registry, makeWorker, logger } = setup(t);
  registry.define("f", (_ctx, x: number) => x);
  const store = backend.store.bind(backend);
  backend.store = async (meta) => {
    if (meta.state === "STARTED") throw new Error("disk full");
    return store(meta);
  };
  const ack = broker.ack.bind(broker);
  let ackFailures = 0;
  broker.ack = async (delivery) => {
    if (ackFailures++ === 0) throw new Error("connection reset");
    return ack(delivery);
  };
  const worker = makeWorker({ concurrency: 1 });
  worker.start();
  const first = message("f", [1]);
  const second = message("f", [2]);
  await broker.publishMany([first, second]);
  t.equal((await ready(backend, second.id)).result, 2, "the next task runs normally");
  t.ok(logger.lines.some((l) => l.msg === "could not store the task state"));
  t.ok(logger.lines.some((l) => l.msg === "could not ack the message"));
  t.notOk(registry.calls.some((c) => c.args[0] === 1), "a task whose ack failed (at-most-once) did not run");
});

t.test("a result that is not JSON fails the task instead of leaving it STARTED", async (t) => {
  const { broker, backend, registry, makeWorker } = setup(t);
  registry.define("big", () => 10n ** 30n, { acksLate: true });
  registry.define("cycle", () => {
    const o: Record<string, unknown> = {};
    o.self = o;
    return o;
  });
  makeWorker().start();
  const a = message("big");
  const b = message("cycle");
  await broker.publishMany([a, b]);
  for (const m of [a, b]) {
    const meta = await ready(backend, m.id);
    t.equal(meta.state, "FAILURE");
    t.equal(meta.error?.type, "TypeError");
    t.match(meta.error?.message, /not JSON-serializable/);
  }
  await until(async () => (await broker.deadLetters(5)).length === 1, "the acksLate one dead-lettered");
});
