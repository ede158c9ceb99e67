/**
 * Graceful stop and rate limits: a stopping worker finishes what runs, gives back what it had not
 * started (another worker then takes it), aborts what outlives the graceful timeout; a rate-limited
 * task type waits in the worker without holding back other types.
 */
import t from "tap";
import { gate, message, ready, setup, until } from "./harness.js";

t.test("stop() waits for a running task and releases unstarted ones; a second worker runs those", async (t) => {
  const { broker, backend, registry, makeWorker } = setup(t);
  const held = gate();
  registry.define("long", () => held.promise.then(() => "finished"));
  registry.define("limited", () => "limited ran", { rateLimit: "1/h" });
  const first = makeWorker({ id: "first", concurrency: 4 });
  first.start();
  const running = message("long");
  const l1 = message("limited");
  const l2 = message("limited");
  await broker.publishMany([running, l1, l2]);
  await until(() => registry.callsOf("long") === 1, "long running");
  await ready(backend, l1.id);
  await until(async () => (await broker.stats()).find((s) => s.queue === "celery")?.leased === 1, "l2 held (the long task was acked as it started)");
  let stopped = false;
  const stopping = first.stop({ gracefulTimeoutMs: 60_000 }).then(() => void (stopped = true));
  // l2 goes back to the queue at once, while the long task still runs.
  await until(async () => (await broker.stats()).find((s) => s.queue === "celery")?.ready === 1, "l2 released");
  t.notOk(stopped, "stop() is still waiting for the running task");
  t.equal(registry.callsOf("limited"), 1, "the unstarted one did not run");
  held.open();
  await stopping;
  t.equal((await backend.get(running.id))?.state, "SUCCESS", "the running task finished and was stored");
  t.equal((await backend.get(running.id))?.result, "finished");
  const second = makeWorker({ id: "second" });
  second.start();
  t.equal((await ready(backend, l2.id)).result, "limited ran", "the released message ran on the second worker");
  t.equal((await backend.get(l2.id))?.worker, "second");
  t.equal(first.processed, 2);
  first.start();
  t.same(first.running(), [], "a stopped worker does not start again");
});

t.test("past the graceful timeout: an acksLate task is released to run elsewhere, another is stored REVOKED", async (t) => {
  const { broker, backend, registry, makeWorker } = setup(t);
  const reasons: unknown[] = [];
  let lateRuns = 0;
  const lateGate = gate();
  registry.define("late", (ctx) => {
    if (++lateRuns > 1) return "second run";
    ctx.signal.addEventListener("abort", () => reasons.push(ctx.signal.reason));
    return lateGate.promise;
  }, { acksLate: true });
  registry.define("early", () => new Promise(() => {}));
  const first = makeWorker({ concurrency: 2 });
  first.start();
  const late = message("late");
  const early = message("early");
  await broker.publishMany([late, early]);
  await until(() => registry.callsOf("late") === 1 && registry.callsOf("early") === 1, "both running");
  await first.stop({ gracefulTimeoutMs: 0 });
  t.equal((reasons[0] as Error | undefined)?.name, "TaskRevokedError", "the task's signal told it why");
  const earlyMeta = await ready(backend, early.id);
  t.equal(earlyMeta.state, "REVOKED", "already acked: nothing would run it again");
  t.match(earlyMeta.error?.message, /worker shutdown/);
  t.equal((await backend.get(late.id))?.state, "STARTED", "acksLate: no final state stored");
  const second = makeWorker();
  second.start();
  t.equal((await ready(backend, late.id)).result, "second run");
  lateGate.open();
});

t.test("stop() before start() and twice: no error, the same promise", async (t) => {
  const { makeWorker } = setup(t);
  const worker = makeWorker();
  const a = worker.stop();
  t.equal(worker.stop(), a);
  await a;
  worker.start();
  t.same(worker.running(), []);
});

t.test("a rate-limited task type waits without holding back another type", async (t) => {
  const { broker, backend, registry, makeWorker } = setup(t);
  registry.define("limited", () => "l", { rateLimit: "1/h" });
  registry.define("free", () => "f");
  const worker = makeWorker({ concurrency: 2 });
  worker.start();
  const limited = [message("limited"), message("limited"), message("limited")];
  const free = [message("free"), message("free"), message("free")];
  await broker.publishMany(limited);
  await broker.publishMany(free);
  for (const m of free) t.equal((await ready(backend, m.id)).result, "f");
  t.equal(registry.callsOf("limited"), 1, "one token per hour: only the first ran");
  const states = await backend.getMany(limited.map((m) => m.id));
  t.same(states.map((m) => m?.state), ["SUCCESS", undefined, undefined], "the others wait (PENDING), leased by the worker");
  t.equal((await broker.stats()).find((s) => s.queue === "celery")?.leased, 2);
});

t.test("an invalid rate limit is logged once and the task runs unlimited", async (t) => {
  const { broker, backend, registry, makeWorker, logger } = setup(t);
  registry.define("odd", () => 1, { rateLimit: "lots" });
  makeWorker().start();
  const ms = [message("odd"), message("odd")];
  await broker.publishMany(ms);
  for (const m of ms) t.equal((await ready(backend, m.id)).state, "SUCCESS");
  t.equal(logger.lines.filter((l) => l.msg === "invalid rate limit; the task runs without one").length, 1);
});

t.test("a message revoked while it waits for a rate-limit token stops waiting: REVOKED, never run", async (t) => {
  const { broker, backend, registry, makeWorker } = setup(t);
  registry.define("limited", () => "ran", { rateLimit: "1/h" });
  makeWorker().start();
  const a = message("limited");
  const b = message("limited");
  await broker.publish(a);
  await ready(backend, a.id);
  await broker.publish(b);
  await until(async () => (await broker.stats()).find((s) => s.queue === "celery")?.leased === 1, "b reserved and waiting");
  await broker.revoke(b.id);
  const meta = await ready(backend, b.id);
  t.equal(meta.state, "REVOKED", "not after the hour-long wait: at the next revocation poll");
  t.match(meta.error?.message, /revoked/);
  t.equal(registry.callsOf("limited"), 1);
  await until(async () => (await broker.stats()).find((s) => s.queue === "celery")?.leased === 0, "acked");
});

t.test("a broker whose reserve() throws is retried with a backoff, not a crash", async (t) => {
  const { broker, backend, registry, makeWorker, logger } = setup(t);
  registry.define("f", () => 1);
  const reserve = broker.reserve.bind(broker);
  let failures = 0;
  broker.reserve = async (options) => {
    if (failures++ < 1) throw new Error("database is locked");
    return reserve(options);
  };
  makeWorker().start();
  const m = message("f");
  await broker.publish(m);
  t.equal((await ready(backend, m.id, 10_000)).state, "SUCCESS");
  t.ok(logger.lines.some((l) => l.msg === "could not reserve tasks"));
});
