/**
 * RedisBroker and RedisResultBackend: the broker and result backend conformance suites on the Redis
 * at 127.0.0.1:6379, each case under a key prefix of its own (deleted afterwards), since that Redis is
 * shared with other tests. Skipped when no Redis answers there.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import t, { type Test } from "tap";
import { RedisResultBackend } from "../../../lib/tasks/redis/redis-backend.js";
import { RedisBroker } from "../../../lib/tasks/redis/redis-broker.js";
import { brokerConformance } from "./broker-cases.js";
import { resultBackendConformance } from "./result-backend-cases.js";

const URL = process.env.LAMINAR_TEST_REDIS_URL ?? "redis://127.0.0.1:6379/0";

async function redisUp(): Promise<boolean> {
  const probe = new Redis(URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  probe.on("error", () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/** A fresh prefix whose keys are deleted when the test ends. */
function prefixFor(t: Test): string {
  const prefix = `laminar-test-${randomUUID().slice(0, 8)}:`;
  t.teardown(async () => {
    const redis = new Redis(URL);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });
  return prefix;
}

if (!(await redisUp())) {
  t.test("Redis conformance", { skip: `no Redis at ${URL}: the Redis broker and backend conformance suites need one` }, () => undefined);
} else {
  brokerConformance(t, "RedisBroker", (clock) => new RedisBroker({ url: URL, prefix: prefixFor(t), now: clock.now }));
  resultBackendConformance(t, "RedisResultBackend", (clock) => new RedisResultBackend({ url: URL, prefix: prefixFor(t), now: clock.now }));
}

t.test("redis:// URLs open the Redis broker and backend, with laminar's query options", async (t) => {
  const { connectBackend, connectBroker, redisUrlOptions } = await import("../../../lib/tasks/connect.js");
  t.same(redisUrlOptions("redis://h:1/2?global_keyprefix=app%3A&eta_on_queue=true"), { prefix: "app:", etaOnQueue: true });
  t.same(redisUrlOptions("redis://h:1/2"), {});
  t.same(redisUrlOptions("rediss://h?eta_on_queue=0"), { etaOnQueue: false });
  if (!(await redisUp())) return;
  const prefix = prefixFor(t);
  const url = `${URL}?global_keyprefix=${encodeURIComponent(prefix)}`;
  const broker = connectBroker(url);
  const backend = connectBackend(url);
  t.teardown(async () => {
    await broker.close();
    await backend.close();
  });
  t.ok(broker instanceof RedisBroker);
  t.ok(backend instanceof RedisResultBackend);
  await broker.publish({ id: "via-url", task: "t", args: [], kwargs: {}, queue: "celery", priority: 0, retries: 0, rootId: "via-url", publishedAt: 1 });
  const [delivery] = await broker.reserve({ queues: ["celery"], max: 1, visibilityTimeoutMs: 1000, consumer: "c" });
  t.equal(delivery?.message.id, "via-url", "under the URL's key prefix");
  await backend.store({ taskId: "via-url", state: "SUCCESS", result: 1 });
  t.equal((await backend.get("via-url"))?.result, 1);
});
