/**
 * laminar vs a bare node:http server doing the same work, measured side by side in one run.
 *
 * Each server runs pinned to core 0 (`taskset -c 0`), wrk to core 1, so the load generator does
 * not steal the server's core. The project's machines are virtual and their speed drifts by up to
 * 2x within minutes, so a single long run says little: contenders run in pairs, back to back, many
 * short rounds (alternating which goes first), and the report is the median of the per-round
 * ratios (each pair saw nearly the same machine) beside the median req/s. Server CPU time per
 * request (from /proc, so time stolen by the hypervisor is not counted) is reported too.
 *
 * Run: `npm run bench:node-http` (builds first). Knobs: ROUNDS (9), DURATION seconds per sample
 * (3), CONNECTIONS (64). Results: printed, and written to `bench/results/node-http-ratio-<date>.json`.
 *
 * @module
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { connect } from "node:net";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { cpus } from "node:os";

const here = dirname(fileURLToPath(import.meta.url));
const repo = here.replace(/[\\/]dist[\\/]bench$/, "");
const ROUNDS = Number(process.env.ROUNDS ?? 9);
const DURATION = Number(process.env.DURATION ?? 3);
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
  /** Server CPU time (user + system) per request, in microseconds. */
  cpuMicros: number;
  p50: string;
  p99: string;
  errors: number;
}

/** user + system CPU time of a process, in clock ticks (100 per second on Linux). */
function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

function runWrk(url: string, script: string | undefined, seconds: number, pid?: number): Sample {
  const before = pid === undefined ? 0 : cpuTicks(pid);
  const args = ["-t1", `-c${CONNECTIONS}`, `-d${seconds}s`, "--latency", ...(script ? ["-s", script] : []), url];
  const [command, full] = withPin(1, "wrk", args);
  const out = execFileSync(command, full, { encoding: "utf8" });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN);
  const cpuMicros = pid === undefined ? NaN : ((cpuTicks(pid) - before) * 10_000) / requests;
  const p50 = /\s50%\s+(\S+)/.exec(out)?.[1] ?? "?";
  const p99 = /\s99%\s+(\S+)/.exec(out)?.[1] ?? "?";
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = non2xx + (socketErrors ? socketErrors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0);
  return { rps, cpuMicros, p50, p99, errors };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const samples = new Map<string, Sample[]>();
const ratios = new Map<string, number[]>();
const servers = contenders.map((c) => ({ ...c, process: startServer(c.file, c.port) }));
try {
  for (const server of servers) await waitForPort(server.port);
  for (const workload of workloads) {
    for (const server of servers) runWrk(`http://127.0.0.1:${server.port}${workload.path}`, workload.script, 3); // warm-up: JIT
  }
  for (let round = 1; round <= ROUNDS; round++) {
    for (const workload of workloads) {
      const order = round % 2 === 1 ? servers : [...servers].reverse();
      const rps: Record<string, number> = {};
      for (const server of order) {
        const url = `http://127.0.0.1:${server.port}${workload.path}`;
        const sample = runWrk(url, workload.script, DURATION, server.process.pid);
        const key = `${server.name}|${workload.name}`;
        samples.set(key, [...(samples.get(key) ?? []), sample]);
        rps[server.name] = sample.rps;
        console.log(
          `round ${round} ${workload.name.padEnd(12)} ${server.name.padEnd(15)} ${sample.rps.toFixed(0).padStart(7)} req/s  ` +
            `cpu ${sample.cpuMicros.toFixed(1)} µs/req  p50 ${sample.p50}  p99 ${sample.p99}  errors ${sample.errors}`,
        );
      }
      ratios.set(workload.name, [...(ratios.get(workload.name) ?? []), rps["laminar"]! / rps["bare node:http"]!]);
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
console.log("\nmedians (ratio = laminar / bare node:http, median of the per-round paired ratios)");
for (const workload of workloads) {
  const mine = samples.get(`laminar|${workload.name}`)!;
  const peer = samples.get(`bare node:http|${workload.name}`)!;
  const laminar = median(mine.map((s) => s.rps));
  const bare = median(peer.map((s) => s.rps));
  const ratio = median(ratios.get(workload.name)!);
  const cpuRatio = median(peer.map((s) => s.cpuMicros)) / median(mine.map((s) => s.cpuMicros));
  console.log(
    `${workload.name.padEnd(12)} laminar ${laminar.toFixed(0)} req/s  bare ${bare.toFixed(0)} req/s  ` +
      `paired ratio ${(ratio * 100).toFixed(1)}%  cpu-per-request ratio ${(cpuRatio * 100).toFixed(1)}%`,
  );
  (report.workloads as Record<string, unknown>)[workload.name] = {
    laminar: mine,
    bare: peer,
    medianLaminar: laminar,
    medianBare: bare,
    pairedRatios: ratios.get(workload.name),
    ratio,
    cpuRatio,
  };
}
mkdirSync(join(repo, "bench/results"), { recursive: true });
const file = join(repo, `bench/results/node-http-ratio-${new Date().toISOString().slice(0, 10)}.json`);
writeFileSync(file, JSON.stringify(report, null, 2) + "\n");
console.log(`\nwritten ${file}`);
