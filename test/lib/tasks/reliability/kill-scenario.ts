/**
 * The kill -9 scenario the SQLite and Redis reliability tests share: publish `tasks` acksLate
 * `record` tasks while `kills` worker processes are SIGKILLed at random moments (each replaced by the
 * master), then check that every task reached SUCCESS with its own value, that none was lost, and
 * that the duplicate executions stay within what the killed workers could have held.
 */
import type { Test } from "tap";
import { readFileSync } from "node:fs";
import { alive, sleep, until, type Master } from "./worker-harness.js";
import type { TaskQueue } from "../../../../lib/tasks/task-queue.js";

/** What the scenario runs. */
export interface KillScenario {
  /** Tasks published. */
  tasks: number;
  /** Workers SIGKILLed, one at a time, each after its replacement of the previous one listens. */
  kills: number;
  /** How long each task takes (ms), so kills land mid-task. */
  taskMs: number;
  /** The most one killed worker can hold (its slots and what it reserved beyond them). */
  heldPerWorker: number;
  /** The file the `record` task appends `<id> <time>` to. */
  executions: string;
  /** Broker name for the report line. */
  broker: string;
}

/** Runs the scenario; the caller then checks its broker's queue stats. */
export async function killWorkersMidRun(t: Test, master: Master, queue: TaskQueue, s: KillScenario): Promise<void> {
  const ids: string[] = [];
  // Published while the workers consume, one at a time, as a web app would.
  const publishing = (async () => {
    for (let i = 0; i < s.tasks; i++) ids.push((await queue.sendTask("record", { args: [i, s.taskMs] })).id);
  })();

  const killed: number[] = [];
  for (let k = 0; k < s.kills; k++) {
    await sleep(200 + Math.floor(Math.random() * 600));
    const victims = master.listening().filter((pid) => alive(pid) && !killed.includes(pid));
    const victim = victims[Math.floor(Math.random() * victims.length)];
    if (victim === undefined) continue;
    const before = master.listening().length;
    process.kill(victim, "SIGKILL");
    killed.push(victim);
    await until(() => master.listening().length > before, `a replacement for worker ${victim}`, master.output);
    t.comment(`killed ${victim}, replaced, published so far ${ids.length}`);
  }
  await publishing;
  t.equal(killed.length, s.kills, `${s.kills} workers killed: ${killed.join(", ")}`);

  // Bounded, but generous: on a loaded machine (the full suite running beside other jobs) 40 s ran
  // out once; what is asserted is that no task is lost, not how fast they finish.
  const metas = await until(async () => {
    const all = [];
    for (let i = 0; i < ids.length; i += 500) all.push(...(await queue.backend.getMany(ids.slice(i, i + 500))));
    return all.every((meta) => meta?.state === "SUCCESS") && all;
  }, "every task to succeed", master.output, 100_000);
  t.equal(metas.length, s.tasks);
  t.ok(metas.every((meta, i) => meta?.result === i), "each result is its task's own value");

  const lines = readFileSync(s.executions, "utf8").trim().split("\n");
  const perId = new Map<string, number>();
  for (const line of lines) {
    const id = line.split(" ")[0];
    perId.set(id, (perId.get(id) ?? 0) + 1);
  }
  t.equal(perId.size, s.tasks, "every task ran at least once, and nothing else ran");
  t.ok(ids.every((id) => perId.has(id)), "no task lost");
  const duplicates = lines.length - perId.size;
  t.comment(
    `${s.broker}: ${s.tasks} tasks, ${s.kills} workers killed with SIGKILL: ${lines.length} executions, ${duplicates} duplicates ` +
      "(at-least-once with acksLate; each duplicate is a task a killed worker held)",
  );
  t.ok(duplicates <= s.kills * s.heldPerWorker, `duplicates (${duplicates}) bounded by what the killed workers held`);
}
