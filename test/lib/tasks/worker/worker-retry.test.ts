/**
 * Retries through the worker: explicit `ctx.retry()`, `autoretryFor` by class and by name, the
 * retries count carried by the re-delivered message, exhaustion, and errors that never retry.
 * Delays are a few ms (countdowns and `defaultRetryDelay` in fractions of a second).
 */
import t from "tap";
import type { TaskState } from "../../../../lib/tasks/states.js";
import type { ResultBackend } from "../../../../lib/tasks/result-backend.js";
import { TaskArgumentsError } from "../../../../lib/errors.js";
import { message, ready, setup, until } from "./harness.js";

class ConnectionLost extends Error {
  override name = "ConnectionLost";
}
class Flaky extends Error {}

/** Records every state stored per task id. */
function recordStates(backend: ResultBackend): Map<string, TaskState[]> {
  const states = new Map<string, TaskState[]>();
  const store = backend.store.bind(backend);
  backend.store = async (meta) => {
    states.set(meta.taskId, [...(states.get(meta.taskId) ?? []), meta.state]);
    return store(meta);
  };
  return states;
}

for (const acksLate of [false, true]) {
  t.test(`retry with a countdown re-delivers with retries + 1 until it succeeds (acksLate ${acksLate})`, async (t) => {
    const { broker, backend, registry, makeWorker } = setup(t);
    const states = recordStates(backend);
    const seen: number[] = [];
    registry.define(
      "flaky",
      (ctx) => {
        seen.push(ctx.retries);
        if (ctx.retries < 2) throw ctx.retry({ countdown: 0.002, exc: new ConnectionLost(`attempt ${ctx.retries}`) });
        return `ok after ${ctx.retries}`;
      },
      { acksLate },
    );
    makeWorker().start();
    const m = message("flaky", [1]);
    await broker.publish(m);
    const meta = await ready(backend, m.id);
    t.equal(meta.state, "SUCCESS");
    t.equal(meta.result, "ok after 2");
    t.equal(meta.retries, 2);
    t.same(seen, [0, 1, 2], "same task id, one more retry each time");
    t.same(states.get(m.id), ["STARTED", "RETRY", "STARTED", "RETRY", "STARTED", "SUCCESS"]);
    // With acksLate the ack follows the stored SUCCESS: wait for it rather than race it.
    const empty = async () => {
      const stats = (await broker.stats()).find((s) => s.queue === "celery");
      return [stats?.ready, stats?.leased, stats?.delayed, stats?.dead].every((n) => n === 0);
    };
    await until(empty, "nothing left behind");
    t.ok(await empty(), "nothing left behind, no duplicate");
    t.equal(registry.callsOf("flaky"), 3);
  });
}

t.test("the RETRY state records the Retry's exc and the scheduled retry number; the message carries an eta", async (t) => {
  const { broker, backend, registry, makeWorker } = setup(t);
  const published: { retries: number; eta?: number }[] = [];
  const release = broker.release.bind(broker);
  broker.release = async (delivery, options) => {
    if (options?.message) published.push({ retries: options.message.retries, eta: options.message.eta });
    return release(delivery, options);
  };
  registry.define("later", (ctx) => {
    throw ctx.retry({ countdown: 3600, exc: new ConnectionLost("db down") });
  }, { acksLate: true });
  makeWorker().start();
  const m = message("later");
  await broker.publish(m);
  await until(async () => (await backend.get(m.id))?.state === "RETRY", "RETRY stored");
  const meta = await backend.get(m.id);
  t.equal(meta?.error?.type, "ConnectionLost");
  t.equal(meta?.error?.message, "db down");
  t.equal(meta?.retries, 1);
  await until(() => published.length === 1, "released with a replacement");
  t.equal(published[0]?.retries, 1);
  t.ok((published[0]?.eta ?? 0) > Date.now() + 3000_000, "an hour away: held by the broker, not the worker");
  await until(async () => (await broker.stats()).find((s) => s.queue === "celery")?.delayed === 1, "delayed in the broker");
});

t.test("autoretryFor by class and by name", async (t) => {
  const { broker, backend, registry, makeWorker } = setup(t);
  let byClass = 0;
  let byName = 0;
  registry.define("by.class", () => {
    if (++byClass < 3) throw new Flaky("flaky");
    return "class ok";
  }, { autoretryFor: [Flaky], defaultRetryDelay: 0.001 });
  registry.define("by.name", () => {
    if (++byName < 3) throw new ConnectionLost("lost");
    return "name ok";
  }, { autoretryFor: ["ConnectionLost"], retryBackoff: 0.001, retryJitter: false });
  makeWorker().start();
  const a = message("by.class");
  const b = message("by.name");
  await broker.publishMany([a, b]);
  t.equal((await ready(backend, a.id)).result, "class ok");
  t.equal((await ready(backend, b.id)).result, "name ok");
  t.equal(byClass, 3);
  t.equal(byName, 3);
});

t.test("an error not listed in autoretryFor fails at once", async (t) => {
  const { broker, backend, registry, makeWorker } = setup(t);
  registry.define("picky", () => {
    throw new RangeError("not transient");
  }, { autoretryFor: [Flaky, "ConnectionLost"], defaultRetryDelay: 0.001 });
  makeWorker().start();
  const m = message("picky");
  await broker.publish(m);
  const meta = await ready(backend, m.id);
  t.equal(meta.state, "FAILURE");
  t.equal(meta.error?.type, "RangeError");
  t.equal(registry.callsOf("picky"), 1);
});

t.test("maxRetries exhausted: FAILURE with the original error, dead-lettered (acksLate)", async (t) => {
  const { broker, backend, registry, makeWorker } = setup(t);
  registry.define("always", () => {
    throw new ConnectionLost("still down");
  }, { autoretryFor: [ConnectionLost], maxRetries: 2, defaultRetryDelay: 0.001, acksLate: true });
  makeWorker().start();
  const m = message("always");
  await broker.publish(m);
  const meta = await ready(backend, m.id);
  t.equal(meta.state, "FAILURE");
  t.equal(meta.error?.type, "ConnectionLost");
  t.equal(meta.error?.message, "still down");
  t.equal(registry.callsOf("always"), 3, "the first run and two retries");
  await until(async () => (await broker.deadLetters(5)).length === 1, "dead letter");
  const [letter] = await broker.deadLetters(5);
  t.equal(letter?.message.retries, 2, "the dead letter is the last attempt's message");
  t.equal(letter?.reason, "ConnectionLost: still down");
});

t.test("retry() without exc past maxRetries: MaxRetriesExceededError; the per-call maxRetries wins", async (t) => {
  const { broker, backend, registry, makeWorker } = setup(t);
  registry.define("plain", (ctx) => {
    throw ctx.retry({ countdown: 0 });
  }, { maxRetries: 1 });
  registry.define("override", (ctx) => {
    throw ctx.retry({ countdown: 0, maxRetries: 3 });
  }, { maxRetries: 0 });
  makeWorker().start();
  const a = message("plain");
  const b = message("override");
  await broker.publishMany([a, b]);
  const meta = await ready(backend, a.id);
  t.equal(meta.error?.type, "MaxRetriesExceededError");
  t.match(meta.error?.message, /plain/);
  t.equal(registry.callsOf("plain"), 2);
  t.equal((await ready(backend, b.id)).error?.type, "MaxRetriesExceededError");
  t.equal(registry.callsOf("override"), 4);
});

t.test("TaskArgumentsError is never retried, even with autoretryFor: [Error]", async (t) => {
  const { broker, backend, registry, makeWorker } = setup(t);
  registry.define("strict", () => {
    throw new TaskArgumentsError("strict", "/0 must be number");
  }, { autoretryFor: [Error], defaultRetryDelay: 0.001, acksLate: true });
  makeWorker().start();
  const m = message("strict", ["x"]);
  await broker.publish(m);
  const meta = await ready(backend, m.id);
  t.equal(meta.error?.type, "TaskArgumentsError");
  t.equal(registry.callsOf("strict"), 1);
  await until(async () => (await broker.deadLetters(5)).length === 1, "dead letter");
});

t.test("a retry scheduled after the lease was lost is logged; the old message stays to be delivered again", async (t) => {
  const { broker, backend, registry, makeWorker, logger } = setup(t);
  registry.define("r", (ctx) => {
    throw ctx.retry({ countdown: 0 });
  }, { acksLate: true, maxRetries: 1 });
  broker.release = async () => false;
  makeWorker().start();
  const m = message("r");
  await broker.publish(m);
  await until(() => logger.lines.some((l) => l.msg?.startsWith("lease lost before the retry") === true), "logged");
  t.equal((await backend.get(m.id))?.state, "RETRY");
});
