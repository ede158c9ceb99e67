/**
 * `kill -9` of laminar workers mid-task on Redis loses nothing (issue 9), with real processes:
 * 2,000 acksLate tasks through `laminar worker --processes 2` on the Redis broker and backend (kombu's
 * format, Celery's result keys) while worker processes are SIGKILLed at random moments. A killed
 * worker's messages sit in kombu's `unacked` hash; once their lease lapses (a 2 s visibility timeout
 * here) the next `reserve` restores them to their queue, so every task reaches SUCCESS with its own
 * value. Duplicates are counted, bounded, not forbidden (at-least-once). Skipped without Redis.
 */
import t from "tap";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { alive, compileWorkers, sleep, startWorkers, until } from "./worker-harness.js";
import { connectBackend, connectBroker } from "../../../../lib/tasks/connect.js";
import { TaskQueue } from "../../../../lib/tasks/task-queue.js";
import { REDIS_URL, redisUp, testPrefix } from "../redis/redis-test-support.js";

const TASKS = 2_000;
const KILLS = 3;
const CONCURRENCY = 16;
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
    const ids: string[] = [];
    // 20 ms per task: 2,000 tasks over 32 slots take over a second, so the kills land mid-run.
    const publishing = (async () => {
      for (let i = 0; i < TASKS; i++) ids.push((await queue.sendTask("record", { args: [i, 20] })).id);
    })();

    const killed: number[] = [];
    for (let k = 0; k < KILLS; k++) {
      await sleep(200 + Math.floor(Math.random() * 500));
      const victims = master.listening().filter((pid) => alive(pid) && !killed.includes(pid));
      const victim = victims[Math.floor(Math.random() * victims.length)];
      if (victim === undefined) continue;
      const before = master.listening().length;
      process.kill(victim, "SIGKILL");
      killed.push(victim);
      await until(() => master.listening().length > before, `a replacement for worker ${victim}`, master.output);
    }
    await publishing;
    t.equal(killed.length, KILLS, `${KILLS} workers killed: ${killed.join(", ")}`);

    const metas = await until(async () => {
      const all = [];
      for (let i = 0; i < ids.length; i += 500) all.push(...(await queue.backend.getMany(ids.slice(i, i + 500))));
      return all.every((meta) => meta?.state === "SUCCESS") && all;
    }, "every task to succeed", master.output, 40_000);
    t.equal(metas.length, TASKS);
    t.ok(metas.every((meta, i) => meta?.result === i), "each result is its task's own value");

    const lines = readFileSync(executions, "utf8").trim().split("\n");
    const perId = new Map<string, number>();
    for (const line of lines) {
      const id = line.split(" ")[0];
      perId.set(id, (perId.get(id) ?? 0) + 1);
    }
    t.equal(perId.size, TASKS, "every task ran at least once, and nothing else ran");
    t.ok(ids.every((id) => perId.has(id)), "no task lost");
    const duplicates = lines.length - perId.size;
    t.comment(`Redis: ${TASKS} tasks, ${KILLS} workers killed with SIGKILL: ${lines.length} executions, ${duplicates} duplicates`);
    // Only a killed worker's in-flight or prefetched tasks run twice: at most its slots (and the
    // batch it had reserved beyond them) per kill.
    t.ok(duplicates <= KILLS * CONCURRENCY * 2, `duplicates (${duplicates}) bounded by what the killed workers held`);

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
