/**
 * MemoryBroker beyond the conformance suite: a waiting reserve is woken by a timer when a delayed
 * message or a lapsed lease becomes due (nothing polls), and a closed broker says so.
 */
import t from "tap";
import { MemoryResultBackend } from "../../../../lib/tasks/memory/memory-backend.js";
import { MemoryBroker } from "../../../../lib/tasks/memory/memory-broker.js";
import { makeMessage } from "../../../conformance/tasks/broker-cases.js";

const reserveWaiting = (broker: MemoryBroker, visibilityTimeoutMs = 10_000) =>
  broker.reserve({ queues: ["celery"], max: 1, visibilityTimeoutMs, consumer: "c", waitMs: 20_000 });

t.test("a waiting reserve wakes when a delayed message becomes due", async (t) => {
  const broker = new MemoryBroker();
  t.teardown(() => broker.close());
  const eta = Date.now() + 40;
  await broker.publish(makeMessage({ id: "later", eta }));
  const got = await reserveWaiting(broker);
  t.same(got.map((d) => d.message.id), ["later"], "delivered within the wait (a broken timer would return [] after 20 s)");
  t.ok(Date.now() >= eta, "not before its ETA");
});

t.test("a waiting reserve wakes when a lease lapses", async (t) => {
  const broker = new MemoryBroker();
  t.teardown(() => broker.close());
  await broker.publish(makeMessage({ id: "x" }));
  const [first] = await reserveWaiting(broker, 30);
  const [second] = await reserveWaiting(broker);
  t.equal(second?.message.id, "x");
  t.equal(second?.deliveries, 2);
  t.equal(await broker.ack(first!), false, "the first lease is spent");
});

t.test("a waiting reserve is not woken by messages due far later than its wait", async (t) => {
  const broker = new MemoryBroker();
  t.teardown(() => broker.close());
  await broker.publish(makeMessage({ id: "tomorrow", eta: Date.now() + 86_400_000 }));
  const got = await broker.reserve({ queues: ["celery"], max: 1, visibilityTimeoutMs: 1_000, consumer: "c", waitMs: 30 });
  t.same(got, [], "the wait ended empty");
});

t.test("closed: writes fail with BrokerUnavailable, reads of leases are refused", async (t) => {
  const broker = new MemoryBroker();
  await broker.publish(makeMessage({ id: "x" }));
  const [d] = await broker.reserve({ queues: ["celery"], max: 1, visibilityTimeoutMs: 1_000, consumer: "c" });
  await broker.close();
  await t.rejects(broker.publish(makeMessage()), { code: "LMR_ERR_BROKER_UNAVAILABLE" });
  await t.rejects(broker.acquireLock("l", "o", 1_000), { code: "LMR_ERR_BROKER_UNAVAILABLE" });
  t.equal(await broker.ack(d!), false);
  t.same(await broker.reserve({ queues: ["celery"], max: 1, visibilityTimeoutMs: 1_000, consumer: "c" }), []);
  const backend = new MemoryResultBackend();
  const waiting = backend.waitFor("t", { timeoutMs: 60_000 });
  await backend.close();
  t.equal(await waiting, undefined, "a waiting waitFor ends at close");
  await t.rejects(backend.store({ taskId: "t", state: "SUCCESS" }), { code: "LMR_ERR_BROKER_UNAVAILABLE" });
});
