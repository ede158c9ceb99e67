/**
 * SqliteBroker beyond the conformance suite: several processes on one file, durability across
 * close and reopen, real (short) ETAs, and the write queue's batching.
 */
import { fork, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import t from "tap";
import type { Delivery } from "../../../../lib/tasks/broker.js";
import type { TaskMessage } from "../../../../lib/tasks/message.js";
import { SqliteResultBackend } from "../../../../lib/tasks/sqlite/sqlite-backend.js";
import { SqliteBroker } from "../../../../lib/tasks/sqlite/sqlite-broker.js";
import { makeMessage } from "../../../conformance/tasks/broker-cases.js";

const dir = mkdtempSync(join(tmpdir(), "laminar-sqlite-broker-"));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = (): string => join(dir, `broker-${++n}.db`);
const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** The next message of `child` matching `has`, or a rejection after `ms`. */
function nextMessage<T>(child: ChildProcess, has: (m: Record<string, unknown>) => boolean, ms = 60_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no message from child ${child.pid} within ${ms} ms`)), ms);
    const onMessage = (m: unknown): void => {
      if (m && typeof m === "object" && has(m as Record<string, unknown>)) {
        clearTimeout(timer);
        child.off("message", onMessage);
        resolve(m as T);
      }
    };
    child.on("message", onMessage);
    // A message sent just before exiting may be handled after the 'exit' event: give it a moment.
    child.once("exit", (code) =>
      setTimeout(() => {
        clearTimeout(timer);
        reject(new Error(`child ${child.pid} exited with ${code}`));
      }, 1_000),
    );
  });
}

t.test("processes reserving from one file never lease the same message twice", async (t) => {
  const path = file();
  const children = ["child-a", "child-b"].map((name) => fork(fixture("reserver.ts"), [path, name], { stdio: "inherit" }));
  t.teardown(() => children.forEach((c) => c.exitCode === null && c.kill()));
  // Both children open the new file at once: the schema is created once, neither fails.
  await Promise.all(children.map((c) => nextMessage(c, (m) => m.ready === true)));
  const reports = children.map((c) => nextMessage<{ ids: string[] }>(c, (m) => Array.isArray(m.ids)));
  const broker = new SqliteBroker({ path });
  t.teardown(() => broker.close());
  const total = 1_500;
  const mine: string[] = [];
  for (let i = 0; i < total; i += 100) {
    await broker.publishMany(Array.from({ length: 100 }, (_, j) => makeMessage({ id: `m${i + j}` })));
    // This process competes too.
    for (const d of await broker.reserve({ queues: ["celery"], max: 8, visibilityTimeoutMs: 60_000, consumer: "parent" })) {
      mine.push(d.message.id);
    }
  }
  const [a, b] = await Promise.all(reports);
  const all = [...a!.ids, ...b!.ids, ...mine];
  t.equal(new Set(all).size, all.length, "no message leased twice");
  t.equal(all.length, total, "every message leased once");
  // Which process wins how many is up to the scheduler; at least two of the three competed.
  const split = [a!.ids.length, b!.ids.length, mine.length];
  t.ok(split.filter((count) => count > 0).length >= 2, `several processes took part (${split.join(" / ")})`);
  const backend = new SqliteResultBackend({ path });
  t.teardown(() => backend.close());
  const metas = await backend.getMany([...a!.ids, ...b!.ids]);
  t.same(metas.map((m) => m?.result), [...a!.ids.map(() => "child-a"), ...b!.ids.map(() => "child-b")], "each child's results are in the file");
  const stats = (await broker.stats()).find((s) => s.queue === "celery");
  t.same([stats?.ready, stats?.leased], [0, total], "all still leased (nobody acked)");
});

t.test("leases outlive the connection that took them and lapse on time after a restart", async (t) => {
  const path = file();
  let time = 1_800_000_000_000;
  const first = new SqliteBroker({ path, now: () => time });
  await first.publishMany([makeMessage({ id: "a" }), makeMessage({ id: "b" })]);
  const taken = await first.reserve({ queues: ["celery"], max: 2, visibilityTimeoutMs: 30_000, consumer: "dead" });
  t.equal(taken.length, 2);
  await first.close();
  const second = new SqliteBroker({ path, now: () => time });
  t.teardown(() => second.close());
  t.same(await second.reserve({ queues: ["celery"], max: 2, visibilityTimeoutMs: 30_000, consumer: "w2" }), [], "still leased");
  time += 30_000;
  const again = await second.reserve({ queues: ["celery"], max: 2, visibilityTimeoutMs: 30_000, consumer: "w2" });
  t.same(again.map((d) => [d.message.id, d.deliveries]), [["a", 2], ["b", 2]]);
});

t.test("everything survives closing and reopening the file", async (t) => {
  const path = file();
  let time = 1_800_000_000_000;
  const before = new SqliteBroker({ path, now: () => time });
  const reserve = (broker: SqliteBroker, max: number): Promise<Delivery[]> =>
    broker.reserve({ queues: ["celery"], max, visibilityTimeoutMs: 120_000, consumer: "c" });
  await before.publishMany([
    makeMessage({ id: "held-1", priority: 3 }),
    makeMessage({ id: "delayed", eta: time + 60_000 }),
    makeMessage({ id: "held-2" }),
    makeMessage({ id: "dead" }),
    makeMessage({ id: "revoked" }),
  ]);
  const held = await reserve(before, 2);
  t.same(held.map((d) => d.message.id), ["held-1", "held-2"]);
  await before.revoke("revoked", { terminate: true });
  const [dead] = await reserve(before, 1);
  t.equal(dead?.message.id, "dead");
  await before.deadLetter(dead!, "gave up");
  await before.acquireLock("beat", "me", 60_000);
  await before.claimOnce("tick", 60_000);
  await before.heartbeat({ id: "w", pid: 1, hostname: "h", queues: ["celery"], concurrency: 1, startedAt: time, seenAt: time, processed: 3, running: [] });
  const statsBefore = await before.stats();
  t.same(statsBefore, [{ queue: "celery", ready: 0, delayed: 1, leased: 2, dead: 1 }]);
  await before.close();

  const after = new SqliteBroker({ path, now: () => time });
  t.teardown(() => after.close());
  t.same(await after.stats(), statsBefore, "the same depths");
  t.equal(await after.ack(held[0]!), true, "a lease taken before the restart can still be acked");
  t.same((await after.deadLetters(10)).map((d) => [d.message.id, d.reason]), [["dead", "gave up"]]);
  t.equal(await after.isRevoked("revoked"), true);
  t.same((await after.revocations(0)).map((r) => [r.taskId, r.terminate]), [["revoked", true]]);
  t.equal(await after.acquireLock("beat", "other", 60_000), false, "the lock is still held");
  t.equal(await after.claimOnce("tick", 60_000), false, "the claim is remembered");
  t.same((await after.workers(60_000)).map((w) => w.processed), [3]);
  time += 60_000;
  t.same((await reserve(after, 10)).map((d) => d.message.id), ["delayed"], "the delayed one is due; the revoked one is gone");
});

t.test("a real ETA is not delivered early, and a waiting reserve gets it once due", async (t) => {
  const broker = new SqliteBroker({ path: file() });
  t.teardown(() => broker.close());
  const eta = Date.now() + 150;
  await broker.publish(makeMessage({ id: "soon", eta }));
  const reserve = (waitMs: number): Promise<Delivery[]> =>
    broker.reserve({ queues: ["celery"], max: 1, visibilityTimeoutMs: 10_000, consumer: "c", waitMs });
  const early = await reserve(0);
  if (Date.now() < eta) t.same(early, [], "before its ETA: nothing");
  const got = await reserve(10_000);
  const at = Date.now();
  t.same(got.map((d) => d.message.id), ["soon"]);
  t.ok(at >= eta, "delivered at or after its ETA");
});

t.test("a waiting reserve sees a publish made through another connection to the file", async (t) => {
  const path = file();
  const consumer = new SqliteBroker({ path });
  const publisher = new SqliteBroker({ path });
  t.teardown(() => Promise.all([consumer.close(), publisher.close()]));
  const waiting = consumer.reserve({ queues: ["celery"], max: 1, visibilityTimeoutMs: 10_000, consumer: "c", waitMs: 20_000 });
  await new Promise((resolve) => setTimeout(resolve, 20));
  await publisher.publish(makeMessage({ id: "x" }));
  t.same((await waiting).map((d) => d.message.id), ["x"]);
});

t.test("writes made in one turn are committed together, each with its own outcome", async (t) => {
  const broker = new SqliteBroker({ path: file() });
  t.teardown(() => broker.close());
  await broker.publishMany(Array.from({ length: 10 }, (_, i) => makeMessage({ id: `w${i}` })));
  const deliveries = await broker.reserve({ queues: ["celery"], max: 10, visibilityTimeoutMs: 10_000, consumer: "c" });
  const fake: Delivery = { message: deliveries[0]!.message, leaseId: "1.not-a-lease", deliveries: 1 };
  const outcomes = await Promise.all([...deliveries.map((d) => broker.ack(d)), broker.ack(fake), broker.ack(deliveries[0]!)]);
  t.same(outcomes, [...deliveries.map(() => true), false, false], "ten acks, a made-up token, a second ack of the first");
  const bad = makeMessage();
  (bad.kwargs as Record<string, unknown>).n = 1n;
  const results = await Promise.allSettled([broker.publish(makeMessage({ id: "fine" })), broker.publish(bad)]);
  t.same(results.map((r) => r.status), ["fulfilled", "rejected"], "a bad publish fails alone");
  const got = await broker.reserve({ queues: ["celery"], max: 10, visibilityTimeoutMs: 10_000, consumer: "c" });
  t.same(got.map((d) => d.message.id), ["fine"]);
});

t.test("close commits what was written before it and ends waiting reserves", async (t) => {
  const path = file();
  const broker = new SqliteBroker({ path });
  const pending = broker.publish(makeMessage({ id: "last-words" }));
  const waiting = broker.reserve({ queues: ["other"], max: 1, visibilityTimeoutMs: 1_000, consumer: "c", waitMs: 60_000 });
  await broker.close();
  await pending;
  t.same(await waiting, []);
  await t.rejects(broker.publish(makeMessage()), { code: "LMR_ERR_BROKER_UNAVAILABLE" }, "closed: a clear error");
  t.equal(await broker.ack({ message: makeMessage(), leaseId: "1.x", deliveries: 1 }), false);
  const reopened = new SqliteBroker({ path });
  t.teardown(() => reopened.close());
  const got = await reopened.reserve({ queues: ["celery"], max: 1, visibilityTimeoutMs: 1_000, consumer: "c" });
  t.same(got.map((d) => d.message.id), ["last-words"]);
});

t.test("a message is stored as published: what the worker reads is the publisher's JSON", async (t) => {
  const broker = new SqliteBroker({ path: file() });
  t.teardown(() => broker.close());
  const message: TaskMessage = makeMessage({ args: [{ date: "2026-01-01T00:00:00.000Z" }, -0, 1e300, "\u2028"], kwargs: { "": 1 } });
  await broker.publish(message);
  const [d] = await broker.reserve({ queues: ["celery"], max: 1, visibilityTimeoutMs: 1_000, consumer: "c" });
  t.same(d?.message, JSON.parse(JSON.stringify(message)));
});
