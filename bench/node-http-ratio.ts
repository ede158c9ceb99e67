/**
 * laminar vs a bare node:http server doing the same work, measured side by side in one run.
 *
 * Each server runs pinned to core 0 (`taskset -c 0`), wrk to core 1, so the load generator does
 * not steal the server's core. Contenders and workloads are interleaved (A B A B …) over several
 * rounds and the median is reported, so drift in the machine's speed hits both alike.
 *
 * Run: `npm run bench:node-http` (builds first). Knobs: ROUNDS (3), DURATION seconds (10),
 * CONNECTIONS (64). Results: printed, and written to `bench/results/node-http-ratio-<date>.json`.
 *
 * @module
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { connect } from "node:net";
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { cpus } from "node:os";

const here = dirname(fileURLToPath(import.meta.url));
const repo = here.replace(/[\\/]dist[\\/]bench$/, "");
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const DURATION = Number(process.env.DURATION ?? 10);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 64);
const pin = cpus().length > 1;

const contenders = [
  { name: "laminar", file: join(here, "apps/laminar-node-http.js"), port: 3100 },
  { name: "bare node:http", file: join(here, "apps/bare-node-http.js"), port: 3101 },
];
const workloads = [
  { name: "GET /hello", path: "/hello", script: undefined },
  { name: "POST /items", path: "/items", script: join(repo, "bench/wrk/post-items.lua") },
];

function withPin(core: number, command: string, args: string[]): [string, string[]] {
  return pin ? ["taskset", ["-c", String(core), command, ...args]] : [command, args];
}

async function waitForPort(port: number): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1", () => {
        socket.end();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
    if (up) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`server on port ${port} did not start`);
}

function startServer(file: string, port: number): ChildProcess {
  const [command, args] = withPin(0, process.execPath, [file]);
  return spawn(command, args, { env: { ...process.env, PORT: String(port), NODE_ENV: "production" }, stdio: "inherit" });
}

interface Sample {
  rps: number;
  p50: string;
  p99: string;
  errors: number;
}

function runWrk(url: string, script: string | undefined, seconds: number): Sample {
  const args = ["-t1", `-c${CONNECTIONS}`, `-d${seconds}s`, "--latency", ...(script ? ["-s", script] : []), url];
  const [command, full] = withPin(1, "wrk", args);
  const out = execFileSync(command, full, { encoding: "utf8" });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const p50 = /\s50%\s+(\S+)/.exec(out)?.[1] ?? "?";
  const p99 = /\s99%\s+(\S+)/.exec(out)?.[1] ?? "?";
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = non2xx + (socketErrors ? socketErrors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0);
  return { rps, p50, p99, errors };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const samples = new Map<string, Sample[]>();
const servers = contenders.map((c) => ({ ...c, process: startServer(c.file, c.port) }));
try {
  for (const server of servers) await waitForPort(server.port);
  for (let round = 1; round <= ROUNDS; round++) {
    for (const workload of workloads) {
      for (const server of servers) {
        const url = `http://127.0.0.1:${server.port}${workload.path}`;
        runWrk(url, workload.script, 2); // warm-up: JIT, connection setup
        const sample = runWrk(url, workload.script, DURATION);
        const key = `${server.name}|${workload.name}`;
        samples.set(key, [...(samples.get(key) ?? []), sample]);
        console.log(`round ${round} ${workload.name.padEnd(12)} ${server.name.padEnd(15)} ${sample.rps.toFixed(0).padStart(7)} req/s  p50 ${sample.p50}  p99 ${sample.p99}  errors ${sample.errors}`);
      }
    }
  }
} finally {
  for (const server of servers) server.process.kill("SIGKILL");
}

const report: Record<string, unknown> = {
  date: new Date().toISOString(),
  node: process.version,
  cores: cpus().length,
  pinned: pin,
  rounds: ROUNDS,
  durationSeconds: DURATION,
  connections: CONNECTIONS,
  workloads: {},
};
console.log("\nmedian req/s (ratio = laminar / bare node:http)");
for (const workload of workloads) {
  const laminar = median(samples.get(`laminar|${workload.name}`)!.map((s) => s.rps));
  const bare = median(samples.get(`bare node:http|${workload.name}`)!.map((s) => s.rps));
  const ratio = laminar / bare;
  console.log(`${workload.name.padEnd(12)} laminar ${laminar.toFixed(0)}  bare ${bare.toFixed(0)}  ratio ${(ratio * 100).toFixed(1)}%`);
  (report.workloads as Record<string, unknown>)[workload.name] = {
    laminar: samples.get(`laminar|${workload.name}`),
    bare: samples.get(`bare node:http|${workload.name}`),
    medianLaminar: laminar,
    medianBare: bare,
    ratio,
  };
}
mkdirSync(join(repo, "bench/results"), { recursive: true });
const file = join(repo, `bench/results/node-http-ratio-${new Date().toISOString().slice(0, 10)}.json`);
writeFileSync(file, JSON.stringify(report, null, 2) + "\n");
console.log(`\nwritten ${file}`);
