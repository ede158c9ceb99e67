/**
 * One callgrind measurement: a contender's server started under valgrind (pinned to core 0), an
 * exact number of requests sent to it from core 1 (`instruction-driver.ts`), a SIGINT (the
 * wrapper turns it into a normal exit, so callgrind writes its file), and the total instructions
 * read from the output's `summary:` line. Two such runs with different request counts give the
 * instructions per request ({@link perRequest}): startup, JIT warm-up and module loading are in
 * both totals and cancel out.
 *
 * Instruction counts are deterministic up to the little that depends on timing (how many requests
 * one event-loop turn picks up), so unlike req/s they do not drift with a noisy machine.
 *
 * @module
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, pinned, waitForPort } from "./server-process.js";
import { repoRoot, type Workload } from "./workloads.js";
import type { DriverResult, DriverSpec } from "./instruction-driver.js";

/** Under valgrind node takes 10–25 s to start on an idle machine, far more on a busy one. */
export const STARTUP_TIMEOUT_MS = 180_000;
/** Callgrind writes its file at exit; a few seconds, more on a busy machine. */
const EXIT_TIMEOUT_MS = 120_000;
/** The driver's bound: under valgrind a server answers a few hundred requests a second. */
const DRIVER_TIMEOUT_MS = 600_000;

/**
 * The total instructions in a callgrind output file: its `summary:` line (the run's total), or
 * its `totals:` line when there is no summary. With only the default event (`Ir`) the line holds
 * one number; with more events the first is `Ir`.
 *
 * @throws when the text has neither line
 */
export function parseCallgrindTotal(text: string): number {
  for (const key of ["summary", "totals"]) {
    const match = new RegExp(`^${key}:\\s*(\\d+)`, "m").exec(text);
    if (match !== null) return Number(match[1]);
  }
  throw new Error("callgrind output has no summary: or totals: line");
}

/** One measured run: the server's total instructions after `requests` requests. */
export interface RunTotal {
  requests: number;
  instructions: number;
}

/**
 * Instructions per request from two runs with different request counts:
 * (I(N2) − I(N1)) / (N2 − N1), so what both runs share (startup, loading, warm-up) cancels.
 *
 * @throws when the request counts are equal or a total is not a finite number
 */
export function perRequest(a: RunTotal, b: RunTotal): number {
  if (a.requests === b.requests) throw new Error(`both runs sent ${a.requests} requests: no difference to divide by`);
  if (![a.instructions, b.instructions].every(Number.isFinite)) throw new Error("a run's instruction total is not a number");
  return (b.instructions - a.instructions) / (b.requests - a.requests);
}

/** valgrind's version (`valgrind-3.19.0`), or undefined when it is not installed. */
export function valgrindVersion(): string | undefined {
  try {
    return execFileSync("valgrind", ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
  } catch {
    return undefined;
  }
}

const compiled = (file: string): string => join(repoRoot, "dist/bench", file);

/** Runs the driver (pinned to core 1) and resolves with what it reports. */
function runDriver(spec: DriverSpec): Promise<DriverResult> {
  const { file, args } = pinned(1, process.execPath, [compiled("instruction-driver.js"), JSON.stringify(spec)]);
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk));
    child.stderr.on("data", (chunk: Buffer) => (err += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), DRIVER_TIMEOUT_MS);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`driver exited with ${code}: ${err.trim().split("\n").slice(-3).join(" | ")}`));
      try {
        resolve(JSON.parse(out) as DriverResult);
      } catch {
        reject(new Error(`driver printed no result: ${out.slice(0, 200)}`));
      }
    });
  });
}

/** What {@link countInstructions} measures. */
export interface CountSpec {
  /** The contender's command (`Contender.command`), a node app: `{ file: node, args: [app.js] }`. */
  command: { file: string; args: string[] };
  workload: Workload;
  requests: number;
  /** Connections the driver uses (default 1: sequential). */
  connections?: number;
}

/**
 * Starts the app under callgrind, sends `requests` requests, stops it with SIGINT and returns its
 * total instructions.
 *
 * @throws when the server does not start, a response is not 2xx, or no total can be read
 */
export async function countInstructions(spec: CountSpec): Promise<RunTotal> {
  const [app] = spec.command.args;
  if (app === undefined || !app.endsWith(".js")) throw new Error(`not a node app: ${spec.command.file} ${spec.command.args.join(" ")}`);
  const dir = mkdtempSync(join(tmpdir(), "laminar-callgrind-"));
  const port = await freePort();
  const valgrind = [
    ...["--tool=callgrind", `--callgrind-out-file=${join(dir, "cg.%p")}`, "--dump-instr=no"],
    // --single-threaded: V8 compiles and collects garbage on the main thread, so that work is
    // counted and happens at the same points in every run.
    ...[process.execPath, "--single-threaded", compiled("instruction-exit-wrapper.js"), app],
  ];
  const { file, args } = pinned(0, "valgrind", valgrind);
  const child = spawn(file, args, { env: { ...process.env, PORT: String(port), NODE_ENV: "production" }, stdio: ["ignore", "pipe", "pipe"] });
  // valgrind's chatter is kept, and shown only when something goes wrong.
  let log = "";
  const keep = (chunk: Buffer): void => void (log = (log + chunk).slice(-4000));
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const fail = (what: string): Error => new Error(`${what}\n--- valgrind output (tail) ---\n${log.trim().split("\n").slice(-12).join("\n")}`);
  try {
    try {
      await waitForPort(port, child, STARTUP_TIMEOUT_MS);
    } catch (error) {
      throw fail(`server under valgrind: ${(error as Error).message}`);
    }
    const result = await runDriver({
      baseUrl: `http://127.0.0.1:${port}`,
      method: spec.workload.method,
      path: spec.workload.path,
      body: spec.workload.body,
      requests: spec.requests,
      connections: spec.connections ?? 1,
    });
    const bad = Object.entries(result.statuses).filter(([status]) => !status.startsWith("2"));
    if (result.sent !== spec.requests || bad.length > 0) {
      throw new Error(`${spec.workload.name}: sent ${result.sent} of ${spec.requests}, statuses ${JSON.stringify(result.statuses)}`);
    }
    child.kill("SIGINT");
    const done = await Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), EXIT_TIMEOUT_MS))]);
    if (!done) throw fail(`server did not exit within ${EXIT_TIMEOUT_MS / 1000} s of SIGINT`);
    if (child.exitCode !== 0) throw fail(`server exited with ${child.exitCode ?? child.signalCode} after SIGINT`);
    const outputs = readdirSync(dir).filter((name) => name.startsWith("cg."));
    if (outputs.length !== 1) throw fail(`expected one callgrind output, found ${outputs.length}`);
    return { requests: spec.requests, instructions: parseCallgrindTotal(readFileSync(join(dir, outputs[0]!), "utf8")) };
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
