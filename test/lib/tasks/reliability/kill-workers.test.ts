/**
 * The task queue under `kill -9`, with real processes: 10,000 tasks through `laminar worker
 * --processes 2` on one SQLite file while worker processes are SIGKILLed at random moments, several
 * times. Every task must reach SUCCESS with its own value, none may be lost, and the duplicate
 * executions (acksLate: at-least-once) are counted and reported, not forbidden.
 *
 * Also: a broker file that is corrupt stops the master with the reason instead of a crash loop.
 * Bounded in tasks, kills and time; nothing is asserted about speed.
 */
import t from "tap";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compileWorkers, startWorkers, until } from "./worker-harness.js";
import { killWorkersMidRun } from "./kill-scenario.js";
import { connectBackend, connectBroker } from "../../../../lib/tasks/connect.js";
import { TaskQueue } from "../../../../lib/tasks/task-queue.js";

const TASKS = 10_000;
const KILLS = 4;
// The scenario's waits add up past tap's 60 s default on a loaded machine.
t.setTimeout(180_000);
const build = compileWorkers(t);

const dir = mkdtempSync(join(tmpdir(), "laminar-reliability-"));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test(`${TASKS} tasks through two worker processes, ${KILLS} of them SIGKILLed mid-run: none lost`, async (t) => {
  const db = join(dir, "kill.db");
  const executions = join(dir, "executions.log");
  writeFileSync(executions, "");
  // A short visibility timeout, so a killed worker's leases lapse within seconds.
  const master = startWorkers(t, build, db, executions, ["--processes", "2", "-c", "16", "--visibility-timeout", "2", "--graceful-timeout", "10"]);
  await until(() => master.listening().length >= 2, "two workers listening", master.output);

  const queue = new TaskQueue({ broker: connectBroker(`sqlite://${db}`), backend: connectBackend(`sqlite://${db}`) });
  t.teardown(() => queue.close());
  // Each worker has 16 slots and reserves no more than it has free.
  await killWorkersMidRun(t, master, queue, { tasks: TASKS, kills: KILLS, taskMs: 10, heldPerWorker: 16, executions, broker: "SQLite" });

  const stats = await queue.broker.stats();
  t.same(stats.map((q) => ({ queue: q.queue, ready: q.ready, leased: q.leased, dead: q.dead })), [{ queue: "celery", ready: 0, leased: 0, dead: 0 }], "the queue is empty");
  master.kill("SIGTERM");
  t.equal(await master.exited, 0, "graceful stop after the run");
});

t.test("a corrupt broker file stops the master with the reason: no crash loop", async (t) => {
  const db = join(dir, "corrupt.db");
  writeFileSync(db, "this is not a SQLite database, whatever its name says ".repeat(200));
  const master = startWorkers(t, build, db, join(dir, "unused.log"), ["--processes", "2"]);
  // An unref'd timer: once the master has exited, a pending 40 s wait must not hold this process
  // open past tap's per-file timeout (which is how this file used to time out after passing).
  const code = await Promise.race([master.exited, new Promise<string>((resolve) => setTimeout(() => resolve("still running"), 40_000).unref())]);
  t.not(code, 0, "the master exits with a failure");
  t.not(code, "still running", "the master did not keep restarting workers");
  t.match(master.output(), /corrupt\.db/, "names the file");
  t.match(master.output(), /BrokerUnavailable|not a database|unavailable/i, "says what is wrong");
  t.equal(master.listening().length, 0, "no worker ever consumed");
  // A crash loop would fork again and again: count the boots the master reported.
  const boots = master.output().split("\n").filter((line) => /worker (booted|started|spawned)/i.test(line)).length;
  t.ok(boots <= 2, `at most one boot per worker slot (${boots})`);
});
