/**
 * `kill -9` of laminar workers mid-task on Redis loses nothing (issue 9), with real processes:
 * 2,000 acksLate tasks through `laminar worker --processes 2` on the Redis broker and backend (kombu's
 * format, Celery's result keys) while worker processes are SIGKILLed at random moments. A killed
 * worker's messages sit in kombu's `unacked` hash; once their lease lapses (a 2 s visibility timeout
 * here) the next `reserve` restores them to their queue, so every task reaches SUCCESS with its own
 * value. Duplicates are counted, bounded, not forbidden (at-least-once). Skipped without Redis.
 */
import t from "tap";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compileWorkers, startWorkers, until } from "./worker-harness.js";
import { killWorkersMidRun } from "./kill-scenario.js";
import { connectBackend, connectBroker } from "../../../../lib/tasks/connect.js";
import { TaskQueue } from "../../../../lib/tasks/task-queue.js";
import { REDIS_URL, redisUp, testPrefix } from "../redis/redis-test-support.js";

const TASKS = 2_000;
const KILLS = 3;
const CONCURRENCY = 16;
// The scenario's waits add up past tap's 60 s default on a loaded machine.
t.setTimeout(180_000);
const build = compileWorkers(t);

t.test(
  `${TASKS} tasks on Redis through two worker processes, ${KILLS} of them SIGKILLed mid-run: none lost`,
  { skip: (await redisUp()) ? false : `Redis is not running at ${REDIS_URL}` },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "laminar-redis-kill-"));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const url = `${REDIS_URL}?global_keyprefix=${encodeURIComponent(testPrefix(t))}`;
    const executions = join(dir, "executions.log");
    writeFileSync(executions, "");
    const master = startWorkers(t, build, join(dir, "unused.db"), executions, ["--processes", "2", "-c", String(CONCURRENCY), "--visibility-timeout", "2", "--graceful-timeout", "10"], {
      LAMINAR_TEST_TASKS_URL: url,
    });
    await until(() => master.listening().length >= 2, "two workers listening", master.output);

    const queue = new TaskQueue({ broker: connectBroker(url), backend: connectBackend(url) });
    t.teardown(() => queue.close());
    // A worker may hold its 16 slots plus one reserved batch beyond them.
    await killWorkersMidRun(t, master, queue, { tasks: TASKS, kills: KILLS, taskMs: 20, heldPerWorker: CONCURRENCY * 2, executions, broker: "Redis" });

    const stats = await queue.broker.stats();
    t.same(
      stats.map((q) => ({ queue: q.queue, ready: q.ready, leased: q.leased })),
      [{ queue: "celery", ready: 0, leased: 0 }],
      "nothing left queued or in the unacked hash",
    );
    master.kill("SIGTERM");
    t.equal(await master.exited, 0, "graceful stop after the run");
  },
);
