/**
 * `npm run bench:tasks`: end-to-end task throughput on the embedded SQLite broker and backend.
 *
 * One worker process (`laminar worker`, async pool, concurrency 64) and one publisher process
 * (`publisher.ts`), pinned to different cores where the machine has two, share a fresh SQLite file.
 * The publisher times from its first `delay()` to the last result stored. Several rounds, each on a
 * new file; the median is reported and written to `bench/results/<date>-tasks.json`.
 *
 * Options (environment): `COUNT` tasks per round (default 10 000), `ROUNDS` (default 3),
 * `CONCURRENCY` (default 64).
 *
 * @module
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, cpus } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { pinned } from "../server-process.js";
import { connectBroker } from "../../lib/tasks/connect.js";
import { sampleRss } from "../proc-stats.js";

const here = fileURLToPath(new URL(".", import.meta.url));
const bin = fileURLToPath(new URL("../../lib/cli/bin.js", import.meta.url));
const count = Number(process.env.COUNT ?? 10_000);
const rounds = Number(process.env.ROUNDS ?? 3);
const concurrency = Number(process.env.CONCURRENCY ?? 64);

interface Round {
  tasksPerSecond: number;
  publishPerSecond: number;
  totalMs: number;
  workerRssMB: number;
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once("exit", (code) => resolve(code))));
}

/** Waits (bounded) until the worker has reported itself to the broker: it is consuming. */
async function waitForWorker(url: string, worker: ChildProcess): Promise<void> {
  const broker = connectBroker(url);
  try {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (worker.exitCode !== null) throw new Error(`the worker exited with ${worker.exitCode} before it consumed`);
      if ((await broker.workers(10_000)).length > 0) return;
      await new Promise((done) => setTimeout(done, 50));
    }
    throw new Error("the worker did not report itself within 30 s");
  } finally {
    await broker.close();
  }
}

async function round(n: number): Promise<Round> {
  const dir = mkdtempSync(join(tmpdir(), "laminar-bench-tasks-"));
  const url = `sqlite://${join(dir, "tasks.db")}`;
  const env = { ...process.env, TASKS_URL: url, COUNT: String(count), LOG_LEVEL: "warn" };
  const workerCommand = pinned(0, process.execPath, [bin, "worker", join(here, "noop-tasks.js"), "--concurrency", String(concurrency), "--pool", "async", "--log-level", "warn"]);
  const worker = spawn(workerCommand.file, workerCommand.args, { env, stdio: ["ignore", "inherit", "inherit"] });
  try {
    await waitForWorker(url, worker);
    const rss = sampleRss(worker.pid as number);
    const publisherCommand = pinned(1, process.execPath, [join(here, "publisher.js")]);
    const publisher = spawn(publisherCommand.file, publisherCommand.args, { env, stdio: ["ignore", "pipe", "inherit"] });
    let output = "";
    publisher.stdout?.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    const code = await exited(publisher);
    const workerRssMB = rss.stop();
    if (code !== 0) throw new Error(`round ${n}: the publisher exited with ${code}`);
    const result = JSON.parse(output.trim().split("\n").pop() as string) as { count: number; wrong: number; publishMs: number; totalMs: number };
    if (result.wrong > 0) throw new Error(`round ${n}: ${result.wrong} results were wrong`);
    return {
      tasksPerSecond: Math.round((result.count / result.totalMs) * 1000),
      publishPerSecond: Math.round((result.count / result.publishMs) * 1000),
      totalMs: Math.round(result.totalMs),
      workerRssMB: Math.round(workerRssMB),
    };
  } finally {
    worker.kill("SIGTERM");
    await exited(worker);
    rmSync(dir, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const results: Round[] = [];
for (let n = 1; n <= rounds; n++) {
  const result = await round(n);
  results.push(result);
  console.log(`round ${n}: ${count} no-op tasks end to end in ${result.totalMs} ms = ${result.tasksPerSecond} tasks/s (publishing alone ${result.publishPerSecond}/s); worker peak RSS ${result.workerRssMB} MB`);
}
const summary = {
  date: new Date().toISOString(),
  machine: { cores: cpus().length, cpu: cpus()[0]?.model, node: process.version },
  setup: { broker: "sqlite", backend: "sqlite", workerProcesses: 1, pool: "async", concurrency, tasksPerRound: count, rounds },
  medianTasksPerSecond: median(results.map((r) => r.tasksPerSecond)),
  medianPublishPerSecond: median(results.map((r) => r.publishPerSecond)),
  rounds: results,
};
console.log(`median: ${summary.medianTasksPerSecond} tasks/s end to end (target ≥ 3,000)`);
const out = fileURLToPath(new URL("../../../bench/results/", import.meta.url));
mkdirSync(out, { recursive: true });
const file = join(out, `${summary.date.slice(0, 10)}-tasks.json`);
writeFileSync(file, `${JSON.stringify(summary, null, 2)}\n`);
console.log(`wrote ${file}`);
