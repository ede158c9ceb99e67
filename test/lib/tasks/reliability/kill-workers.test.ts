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
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { alive, compileWorkers, sleep, startWorkers, until } from "./worker-harness.js";
import { connectBackend, connectBroker } from "../../../../lib/tasks/connect.js";
import { TaskQueue } from "../../../../lib/tasks/task-queue.js";

const TASKS = 10_000;
const KILLS = 4;
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
  const ids: string[] = [];
  // Published while the workers consume, in chunks, as a web app would.
  const publishing = (async () => {
    for (let i = 0; i < TASKS; i++) ids.push((await queue.sendTask("record", { args: [i, 10] })).id);
  })();

  // Kill a live worker at random moments while tasks run; each time wait for the master's replacement.
  const killed: number[] = [];
  for (let k = 0; k < KILLS; k++) {
    await sleep(300 + Math.floor(Math.random() * 700));
    const victims = master.listening().filter((pid) => alive(pid) && !killed.includes(pid));
    const victim = victims[Math.floor(Math.random() * victims.length)];
    if (victim === undefined) continue;
    const before = master.listening().length;
    process.kill(victim, "SIGKILL");
    killed.push(victim);
    await until(() => master.listening().length > before, `a replacement for worker ${victim}`, master.output);
    t.comment(`killed ${victim}, replaced, published so far ${ids.length} at ${new Date().toISOString()}`);
  }
  await publishing;
  t.comment(`published ${ids.length} at ${new Date().toISOString()}`);
  t.equal(killed.length, KILLS, `${KILLS} workers killed: ${killed.join(", ")}`);

  // Every task reaches SUCCESS with its own value.
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
  t.comment(`${TASKS} tasks, ${KILLS} workers killed with SIGKILL: ${lines.length} executions, ${duplicates} duplicates (at-least-once with acksLate; each duplicate is a task that was running in a killed worker)`);
  // A duplicate only comes from a killed worker's in-flight tasks: at most its concurrency per kill.
  t.ok(duplicates <= KILLS * 16, `duplicates (${duplicates}) bounded by what the killed workers had in flight`);

  const stats = await queue.broker.stats();
  t.same(stats.map((q) => ({ queue: q.queue, ready: q.ready, leased: q.leased, dead: q.dead })), [{ queue: "celery", ready: 0, leased: 0, dead: 0 }], "the queue is empty");
  master.kill("SIGTERM");
  t.equal(await master.exited, 0, "graceful stop after the run");
});

t.test("a corrupt broker file stops the master with the reason: no crash loop", async (t) => {
  const db = join(dir, "corrupt.db");
  writeFileSync(db, "this is not a SQLite database, whatever its name says ".repeat(200));
  const master = startWorkers(t, build, db, join(dir, "unused.log"), ["--processes", "2"]);
  const code = await Promise.race([master.exited, sleep(60_000).then(() => "still running")]);
  t.not(code, 0, "the master exits with a failure");
  t.not(code, "still running", "the master did not keep restarting workers");
  t.match(master.output(), /corrupt\.db/, "names the file");
  t.match(master.output(), /BrokerUnavailable|not a database|unavailable/i, "says what is wrong");
  t.equal(master.listening().length, 0, "no worker ever consumed");
  // A crash loop would fork again and again: count the boots the master reported.
  const boots = master.output().split("\n").filter((line) => /worker (booted|started|spawned)/i.test(line)).length;
  t.ok(boots <= 2, `at most one boot per worker slot (${boots})`);
});
