/**
 * One callgrind measurement: a contender's server started under valgrind (pinned to core 0),
 * warmed up with an exact number of requests sent from core 1 (`instruction-driver.ts`), then
 * measured in windows: `callgrind_control --zero`, N more requests, `callgrind_control --dump`,
 * and the dump's total divided by N. The median window is the figure ({@link medianWindow}).
 *
 * Why windows after a long warm-up and not the difference of two runs' totals (the first method):
 * under callgrind, node is still optimising after 3,000 requests. Windows of 3,000 requests after
 * 3,000, 6,000, 9,000 and 12,000 gave bare node:http `GET /hello` 264k, 76k, 60k and 59k
 * instructions per request, so (I(9,000) − I(3,000)) / 6,000 measured part of the JIT's work, and
 * where it landed: the same pair gave laminar's `/items/:id` 82k one day and 48k the next.
 *
 * Instruction counts are deterministic up to the little that depends on timing (how many requests
 * one event-loop turn picks up, when a garbage collection lands), so unlike req/s they do not drift
 * with a noisy machine.
 *
 * @module
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, pinned, waitForPort } from "./server-process.js";
import { repoRoot, type Workload } from "./workloads.js";
import { median } from "./aggregate.js";
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
 * The figure for a run of windows: the median of the windows' instructions per request, so that a
 * window in which a major garbage collection landed does not decide it (it is still listed).
 *
 * @throws when there is no window or a window's count is not a positive finite number
 */
export function medianWindow(windows: readonly RunTotal[]): number {
  if (windows.length === 0) throw new Error("no window was measured");
  const perRequest = windows.map((w) => w.instructions / w.requests);
  if (!perRequest.every((n) => Number.isFinite(n) && n > 0)) throw new Error(`a window has no usable count: ${JSON.stringify(windows)}`);
  return median(perRequest);
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
  /** Requests sent before counting (JIT warm-up). */
  warmup: number;
  /** Requests per measured window. */
  window: number;
  /** How many windows. */
  windows: number;
  /** Connections the driver uses (default 1: sequential). */
  connections?: number;
}

/** A dump's text once callgrind has finished writing it (its `totals:` line is last). */
async function readDump(file: string): Promise<string> {
  const deadline = Date.now() + EXIT_TIMEOUT_MS;
  for (;;) {
    if (existsSync(file)) {
      const text = readFileSync(file, "utf8");
      if (/^totals:/m.test(text)) return text;
    }
    if (Date.now() > deadline) throw new Error(`callgrind wrote no complete dump at ${file}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Runs `callgrind_control <flag> <pid>`; callgrind acts on it at the guest's next basic block. */
function callgrindControl(flag: "--zero" | "--dump", pid: number): void {
  execFileSync("callgrind_control", [flag, String(pid)], { stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
}

/**
 * Starts the app under callgrind, sends `warmup` requests, then measures `windows` windows of
 * `window` requests each (zero, send, dump), stops it with SIGINT and returns each window's total.
 *
 * @throws when the server does not start, a response is not 2xx, or a window's total cannot be read
 */
export async function countInstructions(spec: CountSpec): Promise<RunTotal[]> {
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
    const send = async (requests: number): Promise<void> => {
      const result = await runDriver({
        baseUrl: `http://127.0.0.1:${port}`,
        method: spec.workload.method,
        path: spec.workload.path,
        body: spec.workload.body,
        requests,
        connections: spec.connections ?? 1,
      });
      const bad = Object.entries(result.statuses).filter(([status]) => !status.startsWith("2"));
      if (result.sent !== requests || bad.length > 0) {
        throw new Error(`${spec.workload.name}: sent ${result.sent} of ${requests}, statuses ${JSON.stringify(result.statuses)}`);
      }
    };
    const pid = child.pid!;
    await send(spec.warmup);
    const totals: RunTotal[] = [];
    for (let w = 1; w <= spec.windows; w++) {
      callgrindControl("--zero", pid);
      await send(spec.window);
      callgrindControl("--dump", pid);
      // callgrind numbers its dumps from 1: cg.<pid>.1, cg.<pid>.2, …
      totals.push({ requests: spec.window, instructions: parseCallgrindTotal(await readDump(join(dir, `cg.${pid}.${w}`))) });
    }
    child.kill("SIGINT");
    const done = await Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), EXIT_TIMEOUT_MS))]);
    if (!done) throw fail(`server did not exit within ${EXIT_TIMEOUT_MS / 1000} s of SIGINT`);
    if (child.exitCode !== 0) throw fail(`server exited with ${child.exitCode ?? child.signalCode} after SIGINT`);
    return totals;
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
