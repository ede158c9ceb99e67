/**
 * One `laminar serve --workers N` under test: started as the user would start it (the compiled CLI,
 * `dist/lib/cli/bin.js`), its worker processes found in `/proc`, and stopped by pid.
 *
 * With `--workers 1` the CLI runs the app in its own process (no master), so the tree is that one
 * process; with more, it is the master and its N cluster workers. The tree is left unpinned: the
 * workers may use every core, which is what adding workers is for.
 *
 * @module
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { waitForPort } from "../server-process.js";
import { repoRoot } from "../workloads.js";

/** The compiled CLI. */
export const CLI = join(repoRoot, "dist/lib/cli/bin.js");

/** What to serve, and how. */
export interface ServeSpec {
  /** `module[:export]` as `laminar serve` takes it. */
  target: string;
  workers: number;
  server: "node" | "uws";
  /** A named port: cluster workers and uWS's SO_REUSEPORT need one, not 0. */
  port: number;
  /** Added to the environment (the workers inherit it). */
  env?: Record<string, string>;
  /** The CLI script; default {@link CLI} (tests pass a compilation of their own). */
  cli?: string;
}

/** A running `laminar serve`. */
export interface ServedTree {
  readonly spec: ServeSpec;
  /** The CLI process: the master when N > 1, the only worker when N = 1. */
  readonly pid: number;
  /** The processes that serve requests (the CLI process itself when N = 1). */
  workerPids(): number[];
  /** Everything the processes wrote, for a failure message. */
  output(): string;
  /** SIGTERM (graceful), then SIGKILL to the master and each worker pid after `ms`. */
  stop(ms?: number): Promise<void>;
}

/** The direct children of `pid`, from every thread's `children` file (Linux ≥ 3.5). */
export function childPids(pid: number): number[] {
  try {
    const tasks = readdirSync(`/proc/${pid}/task`);
    return [
      ...new Set(
        tasks.flatMap((task) =>
          readFileSync(`/proc/${pid}/task/${task}/children`, "utf8")
            .split(" ")
            .filter((s) => s.trim() !== "")
            .map(Number),
        ),
      ),
    ].sort((a, b) => a - b);
  } catch {
    return [];
  }
}

function exitOf(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once("exit", () => resolve())));
}

/**
 * Starts `laminar serve` and resolves once the port accepts and every worker process exists.
 *
 * @throws when it exits early or is not ready within `timeoutMs`, with its output
 */
export async function serve(spec: ServeSpec, timeoutMs = 30_000): Promise<ServedTree> {
  const args = [spec.cli ?? CLI, "serve", spec.target, "--workers", String(spec.workers), "--server", spec.server, "--host", "127.0.0.1", "--port", String(spec.port), "--log-level", "warn"];
  const child = spawn(process.execPath, args, { cwd: repoRoot, env: { ...process.env, NODE_ENV: "production", ...spec.env }, stdio: ["ignore", "pipe", "pipe"] });
  let text = "";
  child.stdout!.on("data", (chunk: Buffer) => (text += chunk));
  child.stderr!.on("data", (chunk: Buffer) => (text += chunk));
  const pid = child.pid!;
  const workerPids = (): number[] => (spec.workers === 1 ? [pid] : childPids(pid));
  const tree: ServedTree = {
    spec,
    pid,
    workerPids,
    output: () => text,
    async stop(ms = 10_000) {
      const workers = workerPids();
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const timer = new Promise<"late">((resolve) => setTimeout(() => resolve("late"), ms).unref());
      if ((await Promise.race([exitOf(child), timer])) === "late") {
        child.kill("SIGKILL");
        for (const worker of workers) {
          try {
            process.kill(worker, "SIGKILL");
          } catch {
            // Already gone.
          }
        }
        await exitOf(child);
      }
    },
  };
  try {
    const deadline = Date.now() + timeoutMs;
    await waitForPort(spec.port, child, timeoutMs);
    while (workerPids().length < spec.workers) {
      if (Date.now() > deadline) throw new Error(`${workerPids().length} of ${spec.workers} workers after ${timeoutMs} ms`);
      if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } catch (error) {
    await tree.stop(2_000);
    throw new Error(`laminar serve ${spec.target} --workers ${spec.workers} --server ${spec.server}: ${(error as Error).message}\n${text}`);
  }
  return tree;
}
