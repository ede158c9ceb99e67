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
