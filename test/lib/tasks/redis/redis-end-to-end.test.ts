/**
 * End to end on Redis: a TaskQueue and a real Worker on RedisBroker + RedisResultBackend (so every
 * message goes through the Celery protocol 2 codec and kombu's envelope): a task, a failure, a chain
 * (Celery's reversed chain embed), a chord (the group size in laminar's header), a countdown.
 */
import { setTimeout as sleep } from "node:timers/promises";
import t, { type Test } from "tap";
import { silentLogger } from "../../../../lib/logger.js";
import { chain, chord } from "../../../../lib/tasks/canvas.js";
import { RedisResultBackend } from "../../../../lib/tasks/redis/redis-backend.js";
import { RedisBroker } from "../../../../lib/tasks/redis/redis-broker.js";
import type { TaskFailedError } from "../../../../lib/tasks/task-error.js";
import { TaskQueue } from "../../../../lib/tasks/task-queue.js";
import { Worker } from "../../../../lib/tasks/worker/worker.js";
import { REDIS_URL, redisUp, testPrefix } from "./redis-test-support.js";

const WAIT = { timeout: 15 };
const skip = (await redisUp()) ? false : `no Redis at ${REDIS_URL}`;

class InventoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InventoryError";
  }
}

function setup(t: Test) {
  const prefix = testPrefix(t);
  const queue = new TaskQueue({ broker: new RedisBroker({ url: REDIS_URL, prefix }), backend: new RedisResultBackend({ url: REDIS_URL, prefix }) });
  const add = queue.task("math.add", (x: number, y: number) => x + y);
  const mul = queue.task("math.mul", (x: number, y: number) => x * y);
  const sum = queue.task("math.sum", (xs: number[]) => xs.reduce((a, b) => a + b, 0));
  const slowEcho = queue.task("echo.slow", async (value: number, ms: number) => {
    await sleep(ms);
    return value;
  });
  const reserve = queue.task("stock.reserve", (sku: string) => {
    throw new InventoryError(`no stock for ${sku}`);
  });
  const worker = new Worker(queue, { concurrency: 8, logger: silentLogger, heartbeatMs: 50, revocationPollMs: 5 });
  worker.start();
  t.teardown(async () => {
    await worker.stop({ gracefulTimeoutMs: 0 });
    await queue.close();
  });
  return { queue, add, mul, sum, slowEcho, reserve };
}

t.test("tasks, failures, chains and chords through Redis", { skip }, async (t) => {
  const { add, mul, sum, slowEcho, reserve } = setup(t);
  t.equal(await (await add.delay(2, 3)).get(WAIT), 5);
  const error = (await t.rejects((await reserve.delay("sku-1")).get(WAIT))) as unknown as TaskFailedError;
  t.same([error.name, error.message], ["InventoryError", "no stock for sku-1"], "the error's name survives Celery's exc dict");
  t.equal(await (await chain(add.s(2, 3), mul.s(10), add.s(1)).applyAsync()).get(WAIT), 51, "a chain runs in order");
  t.equal(await (await chord([slowEcho.s(1, 30), slowEcho.s(2, 0), add.s(3, 4)], sum.s()).applyAsync()).get(WAIT), 10, "a chord completes once");
  const later = await add.applyAsync({ args: [1, 1], countdown: 0.3 });
  t.equal(await later.get(WAIT), 2, "a countdown task runs once due");
});
