/**
 * The HTTP/2 row: laminar's HTTP/2 server (h2c) beside a bare node:http2 server doing the same work,
 * and beside laminar on node:http (HTTP/1.1), all driven by one tool, h2load (Debian's
 * `nghttp2-client`), so the protocols are compared with the same generator; wrk against laminar
 * node:http is added as the reference the main bench (`npm run bench`) reports.
 *
 * Concurrency is the same in flight for every row: HTTP/2 as `H2_CONNECTIONS` connections ×
 * `STREAMS` concurrent streams (h2load `-c`/`-m`); HTTP/1.1 as `H2_CONNECTIONS × STREAMS`
 * connections, one request at a time each (no pipelining, as browsers and wrk do).
 *
 * Like `ratio.ts`: servers pinned to core 0 (`taskset -c 0`), the generator to core 1; many short
 * rounds, contenders rotated each round; medians of req/s and of the per-round ratios to laminar
 * http2; server CPU time per request from /proc. Every sample must have 0 failed requests.
 *
 * Run: `npm run build && node dist/bench/h2-ratio.js`. Knobs (environment): ROUNDS (5), DURATION
 * seconds per sample (3), H2_CONNECTIONS (4), STREAMS (16). Results: printed, and written to
 * `bench/results/h2-ratio-<date>[-runN].json`.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { CAN_PIN, freePort, pinned, startServer, type RunningServer } from "./server-process.js";
import { cpuSeconds } from "./proc-stats.js";
import { ITEM_BODY, repoRoot } from "./workloads.js";
import { parseWrkOutput, runCaptured } from "./load-generator.js";
import { median } from "./aggregate.js";
import { unusedResultStem } from "./result-file.js";

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const DURATION = Number(process.env.DURATION ?? 3);
const H2_CONNECTIONS = Number(process.env.H2_CONNECTIONS ?? 4);
const STREAMS = Number(process.env.STREAMS ?? 16);
const IN_FLIGHT = H2_CONNECTIONS * STREAMS;

/** How a contender is driven. */
type Driver = "h2load" | "h2load-h1" | "wrk";

interface Contender {
  name: string;
  app: string;
  driver: Driver;
}

const CONTENDERS: Contender[] = [
  { name: "laminar http2 (h2c)", app: "apps/laminar-http2.js", driver: "h2load" },
  { name: "bare node:http2 (h2c)", app: "apps/bare-http2.js", driver: "h2load" },
  { name: "laminar node:http (HTTP/1.1, h2load --h1)", app: "apps/laminar-node-http.js", driver: "h2load-h1" },
  { name: "laminar node:http (HTTP/1.1, wrk)", app: "apps/laminar-node-http.js", driver: "wrk" },
];

interface Workload {
  name: string;
  path: string;
  post?: boolean;
}

const WORKLOADS: Workload[] = [
  { name: "GET /hello", path: "/hello" },
  { name: "GET /items/:id", path: "/items/42?q=hello" },
  { name: "POST /items", path: "/items", post: true },
];

/** One sample. */
interface Sample {
  rps: number;
  failed: number;
  cpuMicros: number;
}

/** h2load's summary: req/s, and requests that did not succeed (failed, errored, timed out, non-2xx). */
export function parseH2loadOutput(out: string): { rps: number; failed: number } {
  const rps = Number(/finished in [\d.]+\w*, ([\d.]+) req\/s/.exec(out)?.[1] ?? NaN);
  const counts = /requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(out);
  const status = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out);
  if (counts === null || status === null) return { rps, failed: NaN };
  const notOk = Number(status[2]) + Number(status[3]) + Number(status[4]);
  return { rps, failed: Number(counts[4]) + Number(counts[5]) + Number(counts[6]) + notOk };
}

function generatorCommand(contender: Contender, workload: Workload, url: string, bodyFile: string): { file: string; args: string[] } {
  if (contender.driver === "wrk") {
    const script = workload.post ? ["-s", join(repoRoot, "bench/wrk/post-items.lua")] : [];
    return { file: "wrk", args: ["-t1", `-c${IN_FLIGHT}`, `-d${DURATION}s`, "--latency", ...script, url] };
  }
  const shape = contender.driver === "h2load" ? ["-c", String(H2_CONNECTIONS), "-m", String(STREAMS)] : ["--h1", "-c", String(IN_FLIGHT), "-m", "1"];
  const post = workload.post ? ["-d", bodyFile, "-H", "content-type: application/json"] : [];
  return { file: "h2load", args: ["-t", "1", ...shape, "-D", String(DURATION), "--warm-up-time", "1", ...post, url] };
}

async function sample(contender: Contender, server: RunningServer, workload: Workload, bodyFile: string): Promise<Sample> {
  const url = `http://127.0.0.1:${server.port}${workload.path}`;
  const command = generatorCommand(contender, workload, url, bodyFile);
  const { file, args } = pinned(1, command.file, command.args);
  const cpuBefore = cpuSeconds(server.pid);
  const out = await runCaptured(file, args, file);
  const cpu = cpuSeconds(server.pid) - cpuBefore;
  const parsed = contender.driver === "wrk" ? (({ rps, errors }) => ({ rps, failed: errors }))(parseWrkOutput(out)) : parseH2loadOutput(out);
  if (!Number.isFinite(parsed.rps) || !Number.isFinite(parsed.failed)) throw new Error(`${contender.name}: unreadable report:\n${out}`);
  // h2load's -D measures after a warm-up second; the CPU counted includes it (wrk has none).
  const seconds = contender.driver === "wrk" ? DURATION : DURATION + 1;
  return { rps: parsed.rps, failed: parsed.failed, cpuMicros: (cpu / (parsed.rps * seconds)) * 1e6 };
}



async function main(): Promise<void> {
  try {
    execFileSync("h2load", ["--version"], { stdio: "pipe" });
  } catch {
    throw new Error("h2load is not on PATH (Debian: apt-get install nghttp2-client)");
  }
  const bodyFile = join(mkdtempSync(join(tmpdir(), "laminar-h2-")), "item.json");
  writeFileSync(bodyFile, ITEM_BODY);
  console.log(
    `h2-ratio: ${ROUNDS} rounds × ${DURATION} s, ${IN_FLIGHT} requests in flight (HTTP/2: ${H2_CONNECTIONS} connections × ${STREAMS} streams; ` +
      `HTTP/1.1: ${IN_FLIGHT} connections); ${CAN_PIN ? "servers on core 0, generators on core 1" : "one core: not pinned"}`,
  );
  const servers = new Map<string, RunningServer>();
  try {
    for (const contender of CONTENDERS) {
      if (servers.has(contender.app)) continue;
      const port = await freePort();
      servers.set(contender.app, await startServer({ file: process.execPath, args: [join(repoRoot, "dist/bench", contender.app)] }, port));
    }
    const results: Record<string, Record<string, Sample[]>> = {};
    for (const workload of WORKLOADS) {
      results[workload.name] = {};
      // Round -1 warms every server up on this workload (JIT, connection setup) and is not kept.
      for (let round = -1; round < ROUNDS; round++) {
        const order = CONTENDERS.map((_, i) => CONTENDERS[(i + Math.max(round, 0)) % CONTENDERS.length]!);
        for (const contender of order) {
          const s = await sample(contender, servers.get(contender.app)!, workload, bodyFile);
          if (s.failed > 0) throw new Error(`${contender.name} ${workload.name}: ${s.failed} requests failed`);
          if (round >= 0) (results[workload.name]![contender.name] ??= []).push(s);
        }
      }
    }
    const subject = CONTENDERS[0]!.name;
    const summary: Record<string, Record<string, { rps: number; cpuMicros: number; ratioToLaminarHttp2: number }>> = {};
    for (const workload of WORKLOADS) {
      console.log(`\n${workload.name}`);
      const rows = results[workload.name]!;
      summary[workload.name] = {};
      for (const contender of CONTENDERS) {
        const samples = rows[contender.name]!;
        const ratios = samples.map((s, i) => rows[subject]![i]!.rps / s.rps);
        const entry = { rps: median(samples.map((s) => s.rps)), cpuMicros: median(samples.map((s) => s.cpuMicros)), ratioToLaminarHttp2: median(ratios) };
        summary[workload.name]![contender.name] = entry;
        console.log(
          `  ${contender.name.padEnd(44)} ${entry.rps.toFixed(0).padStart(8)} req/s  ${entry.cpuMicros.toFixed(1).padStart(6)} µs CPU/req` +
            (contender.name === subject ? "" : `  laminar http2 / this: ${entry.ratioToLaminarHttp2.toFixed(2)}`),
        );
      }
    }
    const file = `${unusedResultStem(`h2-ratio-${new Date().toISOString().slice(0, 10)}`)}.json`;
    writeFileSync(
      file,
      JSON.stringify(
        {
          date: new Date().toISOString(),
          machine: `${cpus().length} × ${cpus()[0]?.model.trim() ?? "unknown CPU"}, Node ${process.version}`,
          commit: execFileSync("git", ["-C", repoRoot, "rev-parse", "HEAD"], { encoding: "utf8" }).trim(),
          settings: { rounds: ROUNDS, durationSeconds: DURATION, h2Connections: H2_CONNECTIONS, streams: STREAMS, inFlight: IN_FLIGHT, pinned: CAN_PIN },
          summary,
          samples: results,
        },
        null,
        2,
      ) + "\n",
    );
    console.log(`\nwritten ${file}`);
  } finally {
    for (const server of servers.values()) await server.stop();
  }
}

await main();
