/**
 * `npm run bench:tasks`: end-to-end task throughput of laminar's task queue beside BullMQ and Python
 * Celery, in one run, on the same Redis (and laminar on its embedded SQLite broker too).
 *
 * For each contender, a worker process (concurrency 64; Celery's solo pool runs one at a time) and a
 * publisher process, pinned to cores 0 and 1 where the machine has two. The publisher times from its
 * first publish to the last result it read back (see `contenders.ts`). Contenders are interleaved
 * (A B C D, B C D A, …) over several rounds, each round on a fresh namespace; the median per
 * contender is reported with its ratio to laminar on Redis, and written to
 * `bench/results/<date>-tasks.json`. Redis itself is not pinned: it runs wherever the kernel puts
 * it, beside one of the two processes, for every contender alike.
 *
 * Options (environment): `COUNT` tasks per round (default 10 000; Celery gets a fifth), `ROUNDS`
 * (default 3), `CONCURRENCY` (default 64), `ONLY` (comma-separated contender names).
 *
 * @module
 */
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { median, rotate } from "../aggregate.js";
import { sampleRss } from "../proc-stats.js";
import { TASK_CONTENDERS, type TaskContender } from "./contenders.js";

const count = Number(process.env.COUNT ?? 10_000);
const rounds = Number(process.env.ROUNDS ?? 3);
const concurrency = Number(process.env.CONCURRENCY ?? 64);
const only = process.env.ONLY?.split(",").map((name) => name.trim());

/** One contender's round. */
interface Round {
  tasks: number;
  tasksPerSecond: number;
  publishPerSecond: number;
  totalMs: number;
  workerRssMB: number;
}

async function round(contender: TaskContender): Promise<Round> {
  const tasks = contender.count(count);
  const started = await contender.start(tasks, concurrency);
  try {
    const rss = sampleRss(started.worker.pid as number);
    const publisher = spawn(started.publisher.file, started.publisher.args, { env: started.env, stdio: ["ignore", "pipe", "inherit"] });
    let output = "";
    publisher.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    const code = await new Promise<number | null>((resolve) => publisher.once("exit", resolve));
    const workerRssMB = rss.stop();
    if (code !== 0) throw new Error(`${contender.name}: the publisher exited with ${code}`);
    const result = JSON.parse(output.trim().split("\n").pop() as string) as { count: number; wrong: number; publishMs: number; totalMs: number };
    if (result.wrong > 0) throw new Error(`${contender.name}: ${result.wrong} results were wrong`);
    return {
      tasks: result.count,
      tasksPerSecond: Math.round((result.count / result.totalMs) * 1000),
      publishPerSecond: Math.round((result.count / result.publishMs) * 1000),
      totalMs: Math.round(result.totalMs),
      workerRssMB: Math.round(workerRssMB),
    };
  } finally {
    await started.cleanup();
  }
}

const contenders: TaskContender[] = [];
const skipped: Record<string, string> = {};
for (const contender of TASK_CONTENDERS) {
  if (only !== undefined && !only.includes(contender.name)) continue;
  const why = await contender.missing();
  if (why === undefined) contenders.push(contender);
  else {
    skipped[contender.name] = why;
    console.log(`skipping ${contender.name}: ${why}`);
  }
}
if (contenders.length === 0) throw new Error("no contender can run here");

const byName = new Map<string, Round[]>(contenders.map((contender) => [contender.name, []]));
for (let n = 0; n < rounds; n++) {
  for (const contender of rotate(contenders, n)) {
    const result = await round(contender);
    byName.get(contender.name)?.push(result);
    console.log(
      `round ${n + 1} ${contender.name}: ${result.tasks} tasks end to end in ${result.totalMs} ms = ${result.tasksPerSecond} tasks/s ` +
        `(publishing alone ${result.publishPerSecond}/s); worker peak RSS ${result.workerRssMB} MB`,
    );
  }
}

const reference = byName.get(contenders[0].name) ?? [];
const referenceMedian = median(reference.map((r) => r.tasksPerSecond));
const summaries = contenders.map((contender) => {
  const results = byName.get(contender.name) ?? [];
  const tasksPerSecond = median(results.map((r) => r.tasksPerSecond));
  return {
    contender: contender.name,
    description: contender.description,
    medianTasksPerSecond: tasksPerSecond,
    medianPublishPerSecond: median(results.map((r) => r.publishPerSecond)),
    medianWorkerRssMB: median(results.map((r) => r.workerRssMB)),
    ratioToReference: Math.round((tasksPerSecond / referenceMedian) * 100) / 100,
    rounds: results,
  };
});

console.log(`\nend-to-end tasks/s, median of ${rounds} rounds (ratio: ${contenders[0].name} ÷ contender)`);
console.log(`${"contender".padEnd(16)}${"tasks/s".padStart(10)}${"publish/s".padStart(11)}${"RSS MB".padStart(8)}${"laminar ×".padStart(11)}`);
for (const s of summaries) {
  const times = s.medianTasksPerSecond > 0 ? (referenceMedian / s.medianTasksPerSecond).toFixed(2) : "-";
  console.log(`${s.contender.padEnd(16)}${String(s.medianTasksPerSecond).padStart(10)}${String(s.medianPublishPerSecond).padStart(11)}${String(s.medianWorkerRssMB).padStart(8)}${times.padStart(11)}`);
}

const date = new Date().toISOString();
const out = fileURLToPath(new URL("../../../bench/results/", import.meta.url));
mkdirSync(out, { recursive: true });
const file = join(out, `${date.slice(0, 10)}-tasks.json`);
const machine = { cores: cpus().length, cpu: cpus()[0]?.model, node: process.version };
const setup = { workerProcesses: 1, concurrency, tasksPerRound: count, rounds, pinning: "worker core 0, publisher core 1, Redis unpinned" };
writeFileSync(file, `${JSON.stringify({ date, machine, setup, reference: contenders[0].name, contenders: summaries, skipped }, null, 2)}\n`);
console.log(`wrote ${file}`);
