/**
 * ETAs and revocation across real worker processes. Celery keeps an ETA task reserved in the
 * worker's memory until it is due, so an ETA longer than the broker's visibility timeout makes the
 * message visible again and a second worker runs it too (kombu#337, celery#2599). Here the broker
 * holds the message until its ETA: with a 1 s visibility timeout and ETAs 2–3 s away, each task
 * runs exactly once, never before its ETA. A revoked task waiting for its ETA never runs.
 */
import t from "tap";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compileWorkers, sleep, startWorkers, until } from "./worker-harness.js";
import { connectBackend, connectBroker } from "../../../../lib/tasks/connect.js";
import { TaskQueue } from "../../../../lib/tasks/task-queue.js";
import type { AsyncResult } from "../../../../lib/tasks/async-result.js";

const build = compileWorkers(t);
const dir = mkdtempSync(join(tmpdir(), "laminar-eta-"));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test("ETA longer than the visibility timeout: each task runs once, never early; a revoked one never runs", async (t) => {
  const db = join(dir, "eta.db");
  const executions = join(dir, "executions.log");
  writeFileSync(executions, "");
  const master = startWorkers(t, build, db, executions, ["--processes", "2", "-c", "8", "--visibility-timeout", "1", "--graceful-timeout", "5"]);
  await until(() => master.listening().length >= 2, "two workers listening", master.output);
  const queue = new TaskQueue({ broker: connectBroker(`sqlite://${db}`), backend: connectBackend(`sqlite://${db}`) });
  t.teardown(() => queue.close());

  const due = new Map<string, number>();
  const results: AsyncResult<unknown>[] = [];
  for (let i = 0; i < 20; i++) {
    const eta = Date.now() + 2000 + (i % 5) * 250;
    const result = await queue.sendTask("record", { args: [i, 0], eta });
    due.set(result.id, eta);
    results.push(result);
  }
  const revoked = await queue.sendTask("record", { args: [-1, 0], countdown: 2 });
  await revoked.revoke();

  const values = await Promise.all(results.map((result) => result.get({ timeout: 30 })));
  t.same(values, Array.from({ length: 20 }, (_, i) => i), "every ETA task succeeded with its value");
  // Past the revoked task's ETA and one more visibility timeout: had it been delivered, it would have run by now.
  await sleep(1500);

  const runs = readFileSync(executions, "utf8")
    .trim()
    .split("\n")
    .map((line) => {
      const [id, at] = line.split(" ");
      return { id, at: Number(at) };
    });
  const perId = new Map<string, number>();
  for (const run of runs) perId.set(run.id, (perId.get(run.id) ?? 0) + 1);
  t.equal(runs.length, 20, "20 executions for 20 tasks");
  t.ok([...perId.values()].every((count) => count === 1), "no ETA task ran twice (the visibility timeout is shorter than every ETA)");
  const early = runs.filter((run) => run.at < (due.get(run.id) ?? Infinity));
  t.same(early, [], "none ran before its ETA");
  t.notOk(perId.has(revoked.id), "the revoked task never ran");
  t.equal(await revoked.state(), "REVOKED");
  t.same((await queue.broker.stats()).map((q) => ({ ready: q.ready, delayed: q.delayed, leased: q.leased })), [{ ready: 0, delayed: 0, leased: 0 }], "nothing left waiting");

  master.kill("SIGTERM");
  t.equal(await master.exited, 0);
});
