/**
 * The load generators: wrk (preferred: one core of the project's machines drives it to about
 * 120k req/s against bare uWebSockets.js) and autocannon (what users reach for; about 59k from one
 * core, so it saturates before the fastest servers do). Each run is a child process pinned to
 * core 1, away from the server on core 0; its own CPU time is measured (the children's
 * `cutime + cstime` of this process across the run), so the harness can tell when the generator,
 * not the server, was the bottleneck.
 *
 * @module
 */
import { spawn, execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { pinned } from "./server-process.js";
import { childrenCpuSeconds } from "./proc-stats.js";
import type { Workload } from "./workloads.js";

/** Which generator drives the load. */
export type ToolName = "wrk" | "autocannon";

/** One measurement of one server under one workload. */
export interface LoadResult {
  /** Requests per second over the run. */
  rps: number;
  /** Latency percentiles, in milliseconds. */
  p50Ms: number;
  p99Ms: number;
  /** Non-2xx responses plus socket errors and timeouts. */
  errors: number;
  /** The generator's own CPU use over the run, as a fraction of one core. */
  generatorCpu: number;
  /** Wall-clock seconds the generator ran. */
  seconds: number;
}

/** How to run one sample. */
export interface LoadSpec {
  tool: ToolName;
  baseUrl: string;
  workload: Workload;
  seconds: number;
  connections: number;
  pin: boolean;
}

/** True when `wrk` runs here. */
export function wrkAvailable(): boolean {
  try {
    execFileSync("wrk", ["--version"], { stdio: "pipe" });
    return true;
  } catch (error) {
    // wrk --version prints its banner and exits 1.
    return (error as { code?: string }).code !== "ENOENT";
  }
}

/** The autocannon CLI script, when the package is installed. */
export function autocannonScript(): string | undefined {
  try {
    return createRequire(import.meta.url).resolve("autocannon/autocannon.js");
  } catch {
    return undefined;
  }
}

/**
 * The tool to use: the one asked for, else wrk when it is on PATH, else autocannon.
 *
 * @throws when the tool asked for (or any) is not installed
 */
export function chooseTool(asked: ToolName | undefined): ToolName {
  const hasWrk = wrkAvailable();
  const hasAutocannon = autocannonScript() !== undefined;
  if (asked === "wrk" && !hasWrk) throw new Error("wrk is not on PATH (apt-get install wrk)");
  if (asked === "autocannon" && !hasAutocannon) throw new Error("autocannon is not installed (npm install --save-dev autocannon), use --tool wrk");
  if (asked !== undefined) return asked;
  if (hasWrk) return "wrk";
  if (hasAutocannon) return "autocannon";
  throw new Error("no load generator: install wrk (apt-get install wrk) or autocannon (npm install --save-dev autocannon)");
}

/** A wrk latency such as `812.00us`, `1.25ms` or `2.01s`, in milliseconds. */
export function parseWrkDuration(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (!match) return NaN;
  const value = Number(match[1]);
  return match[2] === "us" ? value / 1000 : match[2] === "ms" ? value : match[2] === "s" ? value * 1000 : value * 60_000;
}

/** Reads wrk's `--latency` report. */
export function parseWrkOutput(out: string): Omit<LoadResult, "generatorCpu" | "seconds"> {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const p50Ms = parseWrkDuration(/^\s+50%\s+(\S+)/m.exec(out)?.[1] ?? "");
  const p99Ms = parseWrkDuration(/^\s+99%\s+(\S+)/m.exec(out)?.[1] ?? "");
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = non2xx + (socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0);
  return { rps, p50Ms, p99Ms, errors };
}

/** Reads autocannon's `--json` report. */
export function parseAutocannonOutput(out: string): Omit<LoadResult, "generatorCpu" | "seconds"> {
  const report = JSON.parse(out.slice(out.indexOf("{"))) as {
    requests: { average: number };
    latency: { p50: number; p99: number };
    non2xx: number;
    errors: number;
    timeouts: number;
  };
  return {
    rps: report.requests.average,
    p50Ms: report.latency.p50,
    p99Ms: report.latency.p99,
    errors: report.non2xx + report.errors + report.timeouts,
  };
}

function commandFor(spec: LoadSpec): { file: string; args: string[] } {
  const url = spec.baseUrl + spec.workload.path;
  if (spec.tool === "wrk") {
    const script = spec.workload.wrkScript === undefined ? [] : ["-s", spec.workload.wrkScript];
    return { file: "wrk", args: ["-t1", `-c${spec.connections}`, `-d${spec.seconds}s`, "--latency", ...script, url] };
  }
  const body = spec.workload.body === undefined ? [] : ["-m", spec.workload.method, "-H", "content-type=application/json", "-b", spec.workload.body];
  return {
    file: process.execPath,
    args: [autocannonScript()!, "-c", String(spec.connections), "-d", String(spec.seconds), "--json", ...body, url],
  };
}

/** Runs a load generator to its end; resolves with its stdout, rejects (naming `label`) when it fails. */
export function runCaptured(file: string, args: readonly string[], label: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const child = spawn(file, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk));
    child.once("error", reject);
    child.once("close", (code) => (code === 0 ? resolve(stdout) : reject(new Error(`${label} exited with ${code}: ${stderr.trim()}`))));
  });
}

/** Runs one sample; rejects when the generator fails or its report cannot be read. */
export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const { file, args } = pinned(1, commandFor(spec).file, commandFor(spec).args, spec.pin);
  const cpuBefore = childrenCpuSeconds();
  const started = process.hrtime.bigint();
  const out = await runCaptured(file, args, spec.tool);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const generatorCpu = (childrenCpuSeconds() - cpuBefore) / seconds;
  const parsed = spec.tool === "wrk" ? parseWrkOutput(out) : parseAutocannonOutput(out);
  if (!Number.isFinite(parsed.rps)) throw new Error(`${spec.tool}: no requests/second in its report:\n${out}`);
  return { ...parsed, generatorCpu, seconds };
}
