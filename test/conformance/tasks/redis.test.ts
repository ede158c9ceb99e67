/**
 * RedisBroker and RedisResultBackend: the broker and result backend conformance suites on the Redis
 * at 127.0.0.1:6379, each case under a key prefix of its own (deleted afterwards), since that Redis is
 * shared with other tests. Skipped when no Redis answers there.
 */
import t from "tap";
import { RedisResultBackend } from "../../../lib/tasks/redis/redis-backend.js";
import { RedisBroker } from "../../../lib/tasks/redis/redis-broker.js";
import { brokerConformance } from "./broker-cases.js";
import { resultBackendConformance } from "./result-backend-cases.js";
import { REDIS_URL as URL, redisUp, testPrefix as prefixFor } from "../../lib/tasks/redis/redis-test-support.js";

if (!(await redisUp())) {
  t.test("Redis conformance", { skip: `no Redis at ${URL}: the Redis broker and backend conformance suites need one` }, () => undefined);
} else {
  brokerConformance(t, "RedisBroker", (clock) => new RedisBroker({ url: URL, prefix: prefixFor(t), now: clock.now, maxRevocations: clock.maxRevocations }));
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
