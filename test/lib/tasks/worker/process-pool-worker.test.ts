/**
 * The Worker on the process pool: a task's hard time limit kills its child and the Worker records
 * TimeLimitExceeded, a Retry thrown in a child is recognised as a retry, and the pool keeps running
 * tasks afterwards. The parent and the children load the same fixture module (each its own
 * in-memory queue: the children only run functions, the parent's broker and backend are the truth).
 */
import t from "tap";
import { loadRegistry } from "../../../../lib/cli/load-registry.js";
import { silentLogger } from "../../../../lib/logger.js";
import type { TaskQueue } from "../../../../lib/tasks/task-queue.js";
import { ProcessPool } from "../../../../lib/tasks/worker/process-pool.js";
import { Worker } from "../../../../lib/tasks/worker/worker.js";

const TARGET = "test/fixtures/tasks/queue-tasks.ts";

t.test("hard limit, retry and success through the Worker", async (t) => {
  const queue = (await loadRegistry(`${TARGET}:createTasks`)) as TaskQueue;
  const pool = new ProcessPool({ target: TARGET, size: 2, logger: silentLogger });
  await pool.start();
  const worker = new Worker(queue, { pool, concurrency: 2, logger: silentLogger });
  worker.start();
  t.teardown(async () => {
    await worker.stop({ gracefulTimeoutMs: 0 });
    await queue.close();
  });
  const before = pool.pids;
  const spin = await queue.sendTask("spin");
  const retried = await queue.sendTask("retry-once");
  const failed = await spin.get({ timeout: 30 }).catch((error: unknown) => error);
  t.match(failed, { name: "TimeLimitExceeded", message: "Time limit (0.5s) exceeded" });
  t.equal(await spin.state(), "FAILURE");
  const value = (await retried.get({ timeout: 30 })) as { retries: number; pid: number };
  t.equal(value.retries, 1, "ran again after the Retry crossed back from the child");
  t.ok(before.includes(value.pid) || pool.pids.includes(value.pid), "in a pool child");
  t.equal(await (await queue.sendTask("math.add", { args: [20, 22] })).get({ timeout: 30 }), 42, "the pool still works");
  t.notSame(pool.pids.sort(), before.sort(), "the spinning child was replaced");
});
