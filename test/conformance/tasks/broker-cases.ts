/**
 * The broker conformance suite: every {@link Broker} implementation runs it (memory, sqlite, later
 * Redis and RabbitMQ). The factory gets a fake clock, so ETAs and leases move forward without
 * sleeping; the only real waits are the long-poll cases, each bounded.
 *
 * @module
 */
import type { Test } from "tap";
import type { Broker, Delivery, WorkerInfo } from "../../../lib/tasks/broker.js";
import type { TaskMessage } from "../../../lib/tasks/message.js";

/** A fake clock, and the revocation bound, the factory must hand to the broker it builds. */
export interface BrokerClock {
  now: () => number;
  /** Small, so the bound is testable; no other case revokes this many ids on one broker. */
  maxRevocations: number;
}

/** The `maxRevocations` every conformance broker gets. */
export const CONFORMANCE_MAX_REVOCATIONS = 5;

/** Builds a fresh, empty broker using `clock`. */
export type MakeBroker = (clock: BrokerClock) => Broker | Promise<Broker>;

const T0 = 1_800_000_000_000;
const VT = 1_000;

let counter = 0;

/** A message with sensible defaults; `overrides` wins. */
export function makeMessage(overrides: Partial<TaskMessage> = {}): TaskMessage {
  const id = overrides.id ?? `task-${++counter}`;
  return {
    id,
    task: "test.noop",
    args: [],
    kwargs: {},
    queue: "celery",
    priority: 0,
    retries: 0,
    rootId: id,
    publishedAt: T0,
    ...overrides,
  };
}

interface Fixture {
  broker: Broker;
  /** Moves the fake clock forward. */
  advance(ms: number): void;
  now(): number;
  reserve(queues?: string[], max?: number, visibilityTimeoutMs?: number): Promise<Delivery[]>;
}

/**
 * Runs the broker conformance cases against `make`.
 *
 * @example
 * brokerConformance(t, "MemoryBroker", (clock) => new MemoryBroker(clock));
 */
export function brokerConformance(t: Test, name: string, make: MakeBroker): void {
  const setup = async (t: Test): Promise<Fixture> => {
    let time = T0;
    const broker = await make({ now: () => time, maxRevocations: CONFORMANCE_MAX_REVOCATIONS });
    t.teardown(() => broker.close());
    return {
      broker,
      advance: (ms) => void (time += ms),
      now: () => time,
      reserve: (queues = ["celery"], max = 10, visibilityTimeoutMs = VT) =>
        broker.reserve({ queues, max, visibilityTimeoutMs, consumer: "test:1:0" }),
    };
  };
  const ids = (deliveries: Delivery[]): string[] => deliveries.map((d) => d.message.id);

  t.test(`${name}: a published message comes back whole, once`, async (t) => {
    const f = await setup(t);
    const message = makeMessage({
      args: [1, "two", { three: [3] }, null],
      kwargs: { a: true, nested: { b: "é ☃ \u0000" } },
      expires: T0 + 60_000,
      parentId: "parent",
      group: { id: "g", index: 2, size: 3 },
      chain: [{ task: "next", id: "n1", args: [], kwargs: {}, options: { queue: "q2" } }],
      timeLimit: [10, null],
      origin: "host:1",
    });
    await f.broker.publish(message);
    const [delivery, ...rest] = await f.reserve();
    t.same(rest, [], "one message");
    t.same(delivery?.message, message, "stored whole and handed back unchanged");
    t.equal(delivery?.deliveries, 1);
    t.type(delivery?.leaseId, "string");
    t.same(await f.reserve(), [], "leased: not delivered twice");
    t.same(await f.reserve(["other"]), [], "nothing on a queue never published to");
  });

  t.test(`${name}: the publisher mutating its message afterwards changes nothing`, async (t) => {
    const f = await setup(t);
    const message = makeMessage({ args: [1] });
    await f.broker.publish(message);
    message.args.push(2);
    const [delivery] = await f.reserve();
    t.same(delivery?.message.args, [1]);
  });

  t.test(`${name}: FIFO within a priority`, async (t) => {
    const f = await setup(t);
    for (let i = 0; i < 20; i++) await f.broker.publish(makeMessage({ id: `m${i}` }));
    const got = [...ids(await f.reserve(["celery"], 7)), ...ids(await f.reserve(["celery"], 100))];
    t.same(got, Array.from({ length: 20 }, (_, i) => `m${i}`));
  });

  t.test(`${name}: higher priority first, then publish order; out-of-range priorities do not break it`, async (t) => {
    const f = await setup(t);
    await f.broker.publish(makeMessage({ id: "low-a", priority: 0 }));
    await f.broker.publish(makeMessage({ id: "high-a", priority: 9 }));
    await f.broker.publish(makeMessage({ id: "mid", priority: 5 }));
    await f.broker.publish(makeMessage({ id: "high-b", priority: 9 }));
    await f.broker.publish(makeMessage({ id: "low-b", priority: 0 }));
    t.same(ids(await f.reserve(["celery"], 2)), ["high-a", "high-b"]);
    t.same(ids(await f.reserve(["celery"], 10)), ["mid", "low-a", "low-b"]);
    await f.broker.publish(makeMessage({ id: "huge", priority: 42 }));
    await f.broker.publish(makeMessage({ id: "negative", priority: -3 }));
    await f.broker.publish(makeMessage({ id: "nine", priority: 9 }));
    await f.broker.publish(makeMessage({ id: "fractional", priority: 4.7 }));
    t.same(ids(await f.reserve()), ["huge", "nine", "fractional", "negative"], "42 counts as 9, -3 as 0, 4.7 as 4");
  });

  t.test(`${name}: priority applies across the queues of one reserve`, async (t) => {
    const f = await setup(t);
    await f.broker.publish(makeMessage({ id: "a-low", queue: "a", priority: 1 }));
    await f.broker.publish(makeMessage({ id: "b-high", queue: "b", priority: 8 }));
    await f.broker.publish(makeMessage({ id: "c-top", queue: "c", priority: 9 }));
    t.same(ids(await f.reserve(["a", "b"], 10)), ["b-high", "a-low"], "queue c was not asked for");
    t.same(ids(await f.reserve(["c"])), ["c-top"]);
  });

  t.test(`${name}: an ETA is not delivered before it is due`, async (t) => {
    const f = await setup(t);
    await f.broker.publish(makeMessage({ id: "later", eta: T0 + 5_000 }));
    await f.broker.publish(makeMessage({ id: "now" }));
    const [now] = await f.reserve();
    t.equal(now?.message.id, "now");
    await f.broker.ack(now!);
    f.advance(4_999);
    t.same(await f.reserve(), [], "one ms early: nothing");
    const stats = (await f.broker.stats()).find((s) => s.queue === "celery");
    t.equal(stats?.delayed, 1, "counted as delayed");
    f.advance(1);
    t.same(ids(await f.reserve()), ["later"], "due: delivered");
  });

  t.test(`${name}: among due messages of one priority the earliest due goes first`, async (t) => {
    const f = await setup(t);
    await f.broker.publish(makeMessage({ id: "eta-late", eta: T0 + 300 }));
    await f.broker.publish(makeMessage({ id: "eta-early", eta: T0 + 100 }));
    await f.broker.publish(makeMessage({ id: "eta-past", eta: T0 - 1_000 }));
    f.advance(1_000);
    await f.broker.publish(makeMessage({ id: "fresh" }));
    t.same(ids(await f.reserve()), ["eta-past", "eta-early", "eta-late", "fresh"]);
  });

  t.test(`${name}: a lapsed lease makes the message due again, deliveries counted`, async (t) => {
    const f = await setup(t);
    await f.broker.publish(makeMessage({ id: "x" }));
    const [first] = await f.reserve(["celery"], 1, 1_000);
    t.equal(first?.deliveries, 1);
    f.advance(999);
    t.same(await f.reserve(), [], "still leased");
    f.advance(1);
    const [second] = await f.reserve(["celery"], 1, 1_000);
    t.equal(second?.message.id, "x");
    t.equal(second?.deliveries, 2);
    t.not(second?.leaseId, first?.leaseId, "a new lease token");
  });

  t.test(`${name}: a stale lease token cannot ack, extend, release or dead-letter`, async (t) => {
    const f = await setup(t);
    await f.broker.publish(makeMessage({ id: "x" }));
    const [stale] = await f.reserve();
    f.advance(VT + 1);
    const [current] = await f.reserve();
    t.ok(stale && current);
    t.equal(await f.broker.ack(stale!), false, "ack");
    t.equal(await f.broker.extend(stale!, 60_000), false, "extend");
    t.equal(await f.broker.release(stale!), false, "release");
    t.equal(await f.broker.deadLetter(stale!, "nope"), false, "deadLetter");
    t.same(await f.reserve(), [], "the stale calls changed nothing: still leased by the current holder");
    t.equal(await f.broker.ack(current!), true, "the current token acks");
    t.equal(await f.broker.ack(current!), false, "twice: nothing left to ack");
    f.advance(VT * 10);
    t.same(await f.reserve(), [], "acked: gone for good");
  });

  t.test(`${name}: made-up lease tokens are refused`, async (t) => {
    const f = await setup(t);
    await f.broker.publish(makeMessage({ id: "x" }));
    const [real] = await f.reserve();
    for (const leaseId of ["", "garbage", "1", "1.1", "0:0", "-1", "'; DROP TABLE messages; --", "9".repeat(400)]) {
      const fake = { message: real!.message, leaseId, deliveries: 1 };
      t.equal(await f.broker.ack(fake), false, `ack ${JSON.stringify(leaseId.slice(0, 20))}`);
      t.equal(await f.broker.extend(fake, 1), false);
      t.equal(await f.broker.release(fake), false);
    }
    t.equal(await f.broker.ack(real!), true, "the real one still works");
  });

  t.test(`${name}: extend keeps the message hidden`, async (t) => {
    const f = await setup(t);
    await f.broker.publish(makeMessage({ id: "x" }));
    const [delivery] = await f.reserve(["celery"], 1, 1_000);
    f.advance(800);
    t.equal(await f.broker.extend(delivery!, 1_000), true);
    f.advance(900);
    t.same(await f.reserve(), [], "past the first lease's end, within the extension");
    t.equal(await f.broker.extend(delivery!, 1_000), true, "extended again");
    f.advance(999);
    t.same(await f.reserve(), []);
    f.advance(1);
    t.same(ids(await f.reserve()), ["x"], "not extended any more: due again");
  });

  t.test(`${name}: release puts the message back, at once or after a delay`, async (t) => {
    const f = await setup(t);
    await f.broker.publish(makeMessage({ id: "x" }));
    const [first] = await f.reserve();
    t.equal(await f.broker.release(first!), true);
    t.equal(await f.broker.ack(first!), false, "released: the token is spent");
    const [second] = await f.reserve();
    t.equal(second?.message.id, "x", "due at once");
    t.equal(second?.deliveries, 2);
    t.equal(await f.broker.release(second!, { delayMs: 5_000 }), true);
    f.advance(4_999);
    t.same(await f.reserve(), [], "not before the delay");
    const stats = (await f.broker.stats()).find((s) => s.queue === "celery");
    t.same([stats?.delayed, stats?.leased, stats?.ready], [1, 0, 0], "counted as delayed meanwhile");
    f.advance(1);
    t.same(ids(await f.reserve()), ["x"]);
  });

  t.test(`${name}: release with a replacement message (a retry)`, async (t) => {
    const f = await setup(t);
    const original = makeMessage({ id: "x", args: [1] });
    await f.broker.publish(original);
    const [delivery] = await f.reserve();
    const retry: TaskMessage = { ...original, retries: 1, eta: T0 + 2_000 };
    t.equal(await f.broker.release(delivery!, { message: retry, delayMs: 2_000 }), true);
    t.same(await f.reserve(), [], "held until its backoff passes");
    f.advance(2_000);
    const [again, ...rest] = await f.reserve();
    t.same(rest, [], "replaced, not added: one message");
    t.same(again?.message, retry, "the replacement is what comes back");
    t.equal(again?.deliveries, 1, "a replacement is a new message: its deliveries count from 1");
  });

  t.test(`${name}: dead letters`, async (t) => {
    const f = await setup(t);
    await f.broker.publish(makeMessage({ id: "a", queue: "q1" }));
    await f.broker.publish(makeMessage({ id: "b", queue: "q1" }));
    await f.broker.publish(makeMessage({ id: "c", queue: "q2" }));
    const deliveries = await f.reserve(["q1", "q2"]);
    t.equal(deliveries.length, 3);
    for (const d of deliveries) {
      f.advance(10);
      t.equal(await f.broker.deadLetter(d, `failed ${d.message.id}`), true);
    }
    t.equal(await f.broker.ack(deliveries[0]!), false, "dead-lettered: no longer leased");
    const letters = await f.broker.deadLetters(10);
    t.same(letters.map((l) => [l.message.id, l.reason, l.at]), [
      ["c", "failed c", T0 + 30],
      ["b", "failed b", T0 + 20],
      ["a", "failed a", T0 + 10],
    ], "newest first, with why and when");
    t.same(letters[2]?.message, deliveries[0]?.message, "the message whole");
    t.same((await f.broker.deadLetters(2)).map((l) => l.message.id), ["c", "b"], "limit");
    const stats = await f.broker.stats();
    t.same(stats.find((s) => s.queue === "q1"), { queue: "q1", ready: 0, delayed: 0, leased: 0, dead: 2 });
    t.same(stats.find((s) => s.queue === "q2"), { queue: "q2", ready: 0, delayed: 0, leased: 0, dead: 1 });
    f.advance(VT * 10);
    t.same(await f.reserve(["q1", "q2"]), [], "never delivered again");
  });

  t.test(`${name}: a revoked pending message is never delivered, nor a later publish of its id`, async (t) => {
    const f = await setup(t);
    await f.broker.publish(makeMessage({ id: "keep" }));
    await f.broker.publish(makeMessage({ id: "gone" }));
    await f.broker.publish(makeMessage({ id: "gone-later", eta: T0 + 1_000 }));
    t.equal(await f.broker.isRevoked("gone"), false);
    await f.broker.revoke("gone");
    await f.broker.revoke("gone-later");
    await f.broker.revoke("future");
    t.equal(await f.broker.isRevoked("gone"), true);
    t.equal(await f.broker.isRevoked("future"), true, "an id never published can be revoked");
    t.equal(await f.broker.isRevoked("keep"), false);
    await f.broker.publish(makeMessage({ id: "future" }));
    await f.broker.publishMany([makeMessage({ id: "gone" }), makeMessage({ id: "after" })]);
    f.advance(2_000);
    t.same(ids(await f.reserve()), ["keep", "after"]);
    const stats = (await f.broker.stats()).find((s) => s.queue === "celery");
    t.same([stats?.ready, stats?.delayed], [0, 0], "dropped, not just hidden");
  });

  t.test(`${name}: a message revoked while leased is not delivered again when its lease lapses`, async (t) => {
    const f = await setup(t);
    await f.broker.publish(makeMessage({ id: "running" }));
    const [delivery] = await f.reserve();
    await f.broker.revoke("running", { terminate: true });
    f.advance(VT + 1);
    t.same(await f.reserve(), [], "dropped instead of redelivered");
    t.equal(await f.broker.ack(delivery!), false, "gone");
  });

  t.test(`${name}: revocations in order, after a sequence number`, async (t) => {
    const f = await setup(t);
    t.same(await f.broker.revocations(0), []);
    await f.broker.revoke("a");
    await f.broker.revoke("b", { terminate: true });
    await f.broker.revoke("c", { terminate: false });
    const all = await f.broker.revocations(0);
    t.same(all.map((r) => [r.taskId, r.terminate]), [["a", false], ["b", true], ["c", false]]);
    t.ok(all[0]!.seq > 0 && all[0]!.seq < all[1]!.seq && all[1]!.seq < all[2]!.seq, "increasing seq");
    t.same((await f.broker.revocations(all[0]!.seq)).map((r) => r.taskId), ["b", "c"]);
    t.same(await f.broker.revocations(all[2]!.seq), [], "nothing after the last");
    await f.broker.revoke("d");
    t.same((await f.broker.revocations(all[2]!.seq)).map((r) => r.taskId), ["d"], "a poller sees only what is new");
  });

  t.test(`${name}: only the newest maxRevocations revocations are remembered`, async (t) => {
    const f = await setup(t);
    const max = CONFORMANCE_MAX_REVOCATIONS;
    for (let i = 1; i <= max + 2; i++) await f.broker.revoke(`r${i}`);
    t.same((await f.broker.revocations(0)).map((r) => r.taskId), ["r3", "r4", "r5", "r6", "r7"], "the oldest two forgotten");
    t.equal(await f.broker.isRevoked("r1"), false, "r1 is no longer revoked");
    t.equal(await f.broker.isRevoked("r2"), false);
    t.equal(await f.broker.isRevoked("r3"), true);
    await f.broker.publish(makeMessage({ id: "r1" }));
    t.same(ids(await f.reserve()), ["r1"], "a forgotten id is delivered again");
    // r3 revoked again: its newer revocation keeps it revoked when its first one is trimmed.
    await f.broker.revoke("r3", { terminate: true });
    await f.broker.revoke("r8");
    t.equal(await f.broker.isRevoked("r3"), true, "re-revoked: still revoked");
    t.equal(await f.broker.isRevoked("r4"), false, "r4's only revocation was trimmed");
    t.same((await f.broker.revocations(0)).map((r) => r.taskId), ["r5", "r6", "r7", "r3", "r8"]);
  });

  t.test(`${name}: stats per queue`, async (t) => {
    const f = await setup(t);
    await f.broker.publishMany([
      makeMessage({ queue: "a" }),
      makeMessage({ queue: "a" }),
      makeMessage({ queue: "a" }),
      makeMessage({ queue: "a", eta: T0 + 10_000 }),
      makeMessage({ queue: "b" }),
    ]);
    await f.reserve(["a"], 2);
    t.same(await f.broker.stats(), [
      { queue: "a", ready: 1, delayed: 1, leased: 2, dead: 0 },
      { queue: "b", ready: 1, delayed: 0, leased: 0, dead: 0 },
    ]);
    f.advance(VT);
    const a = (await f.broker.stats()).find((s) => s.queue === "a");
    t.same([a?.ready, a?.leased], [3, 0], "a lapsed lease counts as ready again");
    for (const d of await f.reserve(["a", "b"], 10)) await f.broker.ack(d);
    const drained = await f.broker.stats();
    t.same(drained.find((s) => s.queue === "b"), { queue: "b", ready: 0, delayed: 0, leased: 0, dead: 0 }, "a queue that held messages is still listed");
  });

  t.test(`${name}: heartbeat, workers, removeWorker`, async (t) => {
    const f = await setup(t);
    const info = (id: string, seenAt: number, processed = 0): WorkerInfo => ({
      id,
      pid: 42,
      hostname: "host",
      queues: ["celery", "mail"],
      concurrency: 64,
      startedAt: T0 - 60_000,
      seenAt,
      processed,
      running: [{ id: "t1", task: "test.noop", startedAt: T0 - 5 }],
    });
    await f.broker.heartbeat(info("w1", T0 - 1_000));
    await f.broker.heartbeat(info("w2", T0 - 30_000));
    await f.broker.heartbeat(info("w1", T0, 7));
    const recent = await f.broker.workers(10_000);
    t.same(recent, [info("w1", T0, 7)], "the latest report replaced the first; w2 is too old");
    t.same((await f.broker.workers(60_000)).map((w) => w.id).sort(), ["w1", "w2"]);
    await f.broker.removeWorker("w1");
    await f.broker.removeWorker("never-there");
    t.same((await f.broker.workers(60_000)).map((w) => w.id), ["w2"]);
  });

  t.test(`${name}: locks are exclusive, renewed by their owner, free after their ttl`, async (t) => {
    const f = await setup(t);
    t.equal(await f.broker.acquireLock("beat", "a", 1_000), true);
    t.equal(await f.broker.acquireLock("beat", "b", 1_000), false, "held by a");
    t.equal(await f.broker.acquireLock("other", "b", 1_000), true, "another name is another lock");
    f.advance(900);
    t.equal(await f.broker.acquireLock("beat", "a", 1_000), true, "renewed by its owner");
    f.advance(900);
    t.equal(await f.broker.acquireLock("beat", "b", 1_000), false, "the renewal moved the expiry");
    f.advance(100);
    t.equal(await f.broker.acquireLock("beat", "b", 1_000), true, "expired: free");
    t.equal(await f.broker.acquireLock("beat", "a", 1_000), false, "a lost it");
    await f.broker.releaseLock("beat", "a");
    t.equal(await f.broker.acquireLock("beat", "c", 1_000), false, "a non-owner's release does nothing");
    await f.broker.releaseLock("beat", "b");
    t.equal(await f.broker.acquireLock("beat", "c", 1_000), true, "released by its owner: free at once");
  });

  t.test(`${name}: claimOnce is true once per key`, async (t) => {
    const f = await setup(t);
    const results = await Promise.all(Array.from({ length: 10 }, () => f.broker.claimOnce("tick:1", 60_000)));
    t.equal(results.filter(Boolean).length, 1, "one of ten concurrent claims wins");
    t.equal(await f.broker.claimOnce("tick:1", 60_000), false);
    t.equal(await f.broker.claimOnce("tick:2", 60_000), true, "another key");
    f.advance(59_999);
    t.equal(await f.broker.claimOnce("tick:1", 60_000), false, "still remembered within its ttl");
  });

  t.test(`${name}: publishMany`, async (t) => {
    const f = await setup(t);
    await f.broker.publishMany([]);
    const messages = Array.from({ length: 50 }, (_, i) => makeMessage({ id: `p${i}`, priority: i % 2 === 0 ? 0 : 3 }));
    await f.broker.publishMany(messages);
    const got = ids(await f.reserve(["celery"], 100));
    const odd = messages.filter((_, i) => i % 2 === 1).map((m) => m.id);
    const even = messages.filter((_, i) => i % 2 === 0).map((m) => m.id);
    t.same(got, [...odd, ...even]);
  });

  t.test(`${name}: a message that cannot be stored is refused at publish, and a batch with one publishes none`, async (t) => {
    const f = await setup(t);
    const bad: unknown[] = [
      makeMessage({ args: [10n] }),
      { ...makeMessage(), queue: undefined },
      { ...makeMessage(), queue: "" },
      { ...makeMessage(), id: 42 },
      null,
    ];
    for (const message of bad) {
      await t.rejects(f.broker.publish(message as TaskMessage), TypeError, JSON.stringify(message, (_, v) => (typeof v === "bigint" ? "10n" : v)));
    }
    const cyclic = makeMessage();
    (cyclic.kwargs as Record<string, unknown>).self = cyclic;
    await t.rejects(f.broker.publishMany([makeMessage({ id: "good" }), cyclic]), TypeError);
    t.same(await f.reserve(), [], "nothing was published");
    t.same(await f.broker.stats(), [], "not even a queue name");
  });

  t.test(`${name}: reserve honours max`, async (t) => {
    const f = await setup(t);
    await f.broker.publishMany(Array.from({ length: 5 }, () => makeMessage()));
    t.same(await f.reserve(["celery"], 0), [], "max 0: nothing");
    t.equal((await f.reserve(["celery"], 2)).length, 2);
    t.equal((await f.reserve(["celery"], 10)).length, 3);
    t.same(await f.reserve([], 10), [], "no queues: nothing");
  });

  t.test(`${name}: a waiting reserve wakes on a publish`, async (t) => {
    const f = await setup(t);
    const waiting = f.broker.reserve({ queues: ["celery"], max: 1, visibilityTimeoutMs: VT, consumer: "c", waitMs: 20_000 });
    await new Promise((resolve) => setTimeout(resolve, 5));
    await f.broker.publish(makeMessage({ id: "other-queue", queue: "elsewhere" }));
    await f.broker.publish(makeMessage({ id: "wanted" }));
    t.same(ids(await waiting), ["wanted"]);
  });

  t.test(`${name}: an aborted reserve returns [] at once`, async (t) => {
    const f = await setup(t);
    const controller = new AbortController();
    const waiting = f.broker.reserve({
      queues: ["celery"],
      max: 1,
      visibilityTimeoutMs: VT,
      consumer: "c",
      waitMs: 60_000,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 5);
    t.same(await waiting, []);
    const pre = AbortSignal.abort();
    await f.broker.publish(makeMessage({ id: "x" }));
    t.same(await f.broker.reserve({ queues: ["celery"], max: 1, visibilityTimeoutMs: VT, consumer: "c", signal: pre }), [], "already aborted: nothing leased");
    t.same(ids(await f.reserve()), ["x"], "the message was not taken by the aborted call");
  });

  t.test(`${name}: close ends a waiting reserve with []`, async (t) => {
    let time = T0;
    const broker = await make({ now: () => time, maxRevocations: CONFORMANCE_MAX_REVOCATIONS });
    const waiting = broker.reserve({ queues: ["celery"], max: 1, visibilityTimeoutMs: VT, consumer: "c", waitMs: 60_000 });
    await new Promise((resolve) => setTimeout(resolve, 5));
    await broker.close();
    t.same(await waiting, []);
    time++;
  });
}
