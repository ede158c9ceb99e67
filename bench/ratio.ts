/**
 * The paired-ratio benchmark runner: one laminar app (the subject) against one or more peers doing
 * the same work, measured side by side in one run. The entry points (`node-http-ratio.ts`,
 * `uws-ratio.ts`) only name their contenders.
 *
 * Each server runs pinned to core 0 (`taskset -c 0`), wrk to core 1, so the load generator does
 * not steal the server's core. The project's machines are virtual and their speed drifts by up to
 * 2x within minutes, so a single long run says little: contenders run back to back in many short
 * rounds (the order rotated each round, so no contender always goes first or last), and the report
 * is the median of the per-round ratios subject / peer (each round's samples saw nearly the same
 * machine) beside the median req/s. Server CPU time per request (from /proc, so time stolen by the
 * hypervisor is not counted) is reported too.
 *
 * Before measuring, every server is asked once for each route (and an invalid item), so a server
 * that answers wrongly fails the run instead of winning it.
 *
 * Knobs (environment): ROUNDS (9), DURATION seconds per sample (3), CONNECTIONS (64).
 * Results: printed, and written to `bench/results/<suite>-<date>[-runN].json`.
 *
 * @module
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { connect } from "node:net";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { cpus } from "node:os";
import { median, rotate } from "./aggregate.js";
import { unusedResultStem } from "./result-file.js";

const here = dirname(fileURLToPath(import.meta.url));
const repo = here.replace(/[\\/]dist[\\/]bench$/, "");

/** One server to measure. */
export interface Contender {
  /** Label in the output and the result file. */
  name: string;
  /** Compiled app, relative to `dist/bench/` (e.g. `apps/bare-uws.js`). */
  app: string;
  port: number;
}

/** A subject and the peers it is compared with. */
export interface Suite {
  /** File-name prefix of the result (`bench/results/<id>-<date>.json`). */
  id: string;
  /** The laminar app: every ratio is subject req/s / peer req/s. */
  subject: Contender;
  peers: Contender[];
}

/** One wrk sample. */
export interface Sample {
  rps: number;
  /** Server CPU time (user + system) per request, in microseconds. */
  cpuMicros: number;
  p50: string;
  p99: string;
  /** Non-2xx responses plus socket errors. */
  errors: number;
}

const workloads = [
  { name: "GET /hello", path: "/hello", script: undefined },
  { name: "POST /items", path: "/items", script: join(repo, "bench/wrk/post-items.lua") },
];
/** The body `bench/wrk/post-items.lua` sends. */
const ITEM = '{"name":"pen","price":1.5,"tags":["office","blue"],"unknown":"dropped"}';

function withPin(pin: boolean, core: number, command: string, args: string[]): [string, string[]] {
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

/** Fails when a server does not answer the benchmark's routes as the others do. */
async function checkServer(name: string, port: number): Promise<void> {
  const base = `http://127.0.0.1:${port}`;
  const fail = (what: string): never => {
    throw new Error(`${name}: ${what}`);
  };
  const hello = await fetch(`${base}/hello`);
  if (hello.status !== 200 || (await hello.text()) !== '{"message":"hello"}') fail("GET /hello is not 200 {\"message\":\"hello\"}");
  const post = (body: string): Promise<Response> =>
    fetch(`${base}/items`, { method: "POST", headers: { "content-type": "application/json" }, body });
  const created = await post(ITEM);
  const item = (await created.json()) as Record<string, unknown>;
  if (created.status !== 201) fail(`POST /items answered ${created.status}, not 201`);
  if (typeof item.id !== "number" || item.name !== "pen" || item.price !== 1.5 || "unknown" in item) {
    fail(`POST /items answered ${JSON.stringify(item)}`);
  }
  // Fastify answers a failed validation with 400, laminar and the bare servers with 422.
  const invalid = await post('{"name":"","price":-1,"tags":"x"}');
  await invalid.arrayBuffer();
  if (invalid.status !== 400 && invalid.status !== 422) fail(`an invalid item was answered ${invalid.status}`);
}

/** user + system CPU time of a process, in clock ticks (100 per second on Linux). */
function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

/**
 * The commit measured and the framework files that differed from it (the checkout is shared and
 * `npm run bench:*` builds whatever is on disk, so a result says which code it measured).
 */
function codeVersion(): { commit: string; uncommittedFrameworkFiles: string[] } {
  try {
    const git = (...args: string[]): string => execFileSync("git", ["-C", repo, ...args], { encoding: "utf8" });
    const commit = git("rev-parse", "HEAD").trim();
    const dirty = git("status", "--porcelain", "--", "lib", "layers")
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => line.slice(3));
    return { commit, uncommittedFrameworkFiles: dirty };
  } catch {
    return { commit: "unknown", uncommittedFrameworkFiles: [] };
  }
}

/**
 * Runs a suite: starts every contender, checks their answers, warms them up, measures ROUNDS
 * rounds of both workloads, prints the medians and writes the result JSON.
 *
 * @returns the path of the result file
 */
export async function runRatio(suite: Suite): Promise<string> {
  const ROUNDS = Number(process.env.ROUNDS ?? 9);
  const DURATION = Number(process.env.DURATION ?? 3);
  const CONNECTIONS = Number(process.env.CONNECTIONS ?? 64);
  const pin = cpus().length > 1;
  // Read before the servers start: the checkout is shared and may change during the run.
  const version = codeVersion();

  const runWrk = (url: string, script: string | undefined, seconds: number, pid?: number): Sample => {
    const before = pid === undefined ? 0 : cpuTicks(pid);
    const args = ["-t1", `-c${CONNECTIONS}`, `-d${seconds}s`, "--latency", ...(script ? ["-s", script] : []), url];
    const [command, full] = withPin(pin, 1, "wrk", args);
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
  };

  const contenders = [suite.subject, ...suite.peers];
  const width = Math.max(...contenders.map((c) => c.name.length));
  const samples = new Map<string, Sample[]>();
  /** `${peer}|${workload}` → per-round subject/peer ratios. */
  const ratios = new Map<string, number[]>();
  const servers = contenders.map((c) => {
    const [command, args] = withPin(pin, 0, process.execPath, [join(here, c.app)]);
    const child: ChildProcess = spawn(command, args, {
      env: { ...process.env, PORT: String(c.port), NODE_ENV: "production" },
      stdio: "inherit",
    });
    return { ...c, process: child };
  });
  try {
    for (const server of servers) await waitForPort(server.port);
    for (const server of servers) await checkServer(server.name, server.port);
    for (const workload of workloads) {
      for (const server of servers) runWrk(`http://127.0.0.1:${server.port}${workload.path}`, workload.script, 3); // warm-up: JIT
    }
    for (let round = 1; round <= ROUNDS; round++) {
      for (const workload of workloads) {
        const rps: Record<string, number> = {};
        for (const server of rotate(servers, round - 1)) {
          const sample = runWrk(`http://127.0.0.1:${server.port}${workload.path}`, workload.script, DURATION, server.process.pid);
          const key = `${server.name}|${workload.name}`;
          samples.set(key, [...(samples.get(key) ?? []), sample]);
          rps[server.name] = sample.rps;
          console.log(
            `round ${round} ${workload.name.padEnd(12)} ${server.name.padEnd(width)} ${sample.rps.toFixed(0).padStart(7)} req/s  ` +
              `cpu ${sample.cpuMicros.toFixed(1)} µs/req  p50 ${sample.p50}  p99 ${sample.p99}  errors ${sample.errors}`,
          );
        }
        for (const peer of suite.peers) {
          const key = `${peer.name}|${workload.name}`;
          ratios.set(key, [...(ratios.get(key) ?? []), rps[suite.subject.name]! / rps[peer.name]!]);
        }
      }
    }
  } finally {
    for (const server of servers) server.process.kill("SIGKILL");
  }

  const report = {
    date: new Date().toISOString(),
    node: process.version,
    cores: cpus().length,
    pinned: pin,
    rounds: ROUNDS,
    durationSeconds: DURATION,
    connections: CONNECTIONS,
    ...version,
    subject: suite.subject.name,
    peers: suite.peers.map((p) => p.name),
    /** Per workload: every sample, median req/s and CPU µs/request per contender, ratios per peer. */
    workloads: {} as Record<string, unknown>,
  };
  console.log(`\nmedians (ratio = ${suite.subject.name} / peer: median of the per-round ratios)`);
  for (const workload of workloads) {
    const of = (c: Contender): Sample[] => samples.get(`${c.name}|${workload.name}`)!;
    const subjectCpu = median(of(suite.subject).map((s) => s.cpuMicros));
    const entry = {
      samples: Object.fromEntries(contenders.map((c) => [c.name, of(c)])),
      medianRps: Object.fromEntries(contenders.map((c) => [c.name, median(of(c).map((s) => s.rps))])),
      medianCpuMicros: Object.fromEntries(contenders.map((c) => [c.name, median(of(c).map((s) => s.cpuMicros))])),
      /** Per peer: the per-round subject/peer req/s ratios, their median, and peer/subject CPU per request. */
      ratios: Object.fromEntries(
        suite.peers.map((p) => {
          const perRound = ratios.get(`${p.name}|${workload.name}`)!;
          const cpuRatio = median(of(p).map((s) => s.cpuMicros)) / subjectCpu;
          return [p.name, { perRound, median: median(perRound), cpuRatio }];
        }),
      ),
    };
    report.workloads[workload.name] = entry;
    console.log(
      `${workload.name}: ` + contenders.map((c) => `${c.name} ${entry.medianRps[c.name]!.toFixed(0)} req/s`).join(", "),
    );
    for (const peer of suite.peers) {
      const r = entry.ratios[peer.name]!;
      console.log(
        `  ${suite.subject.name} / ${peer.name}: paired ${(r.median * 100).toFixed(1)}% ` +
          `(rounds ${r.perRound.map((x) => (x * 100).toFixed(0)).join(" ")})  cpu-per-request ratio ${(r.cpuRatio * 100).toFixed(1)}%`,
      );
    }
  }
  mkdirSync(join(repo, "bench/results"), { recursive: true });
  const file = `${unusedResultStem(`${suite.id}-${new Date().toISOString().slice(0, 10)}`)}.json`;
  writeFileSync(file, JSON.stringify(report, null, 2) + "\n");
  console.log(`\nwritten ${file}`);
  return file;
}
