/**
 * Real `laminar worker` processes for the task queue's reliability tests: the CLI, the task worker
 * entry and the fixture registry compiled as the supervisor's tests compile the master (see
 * master-harness.ts), started on a SQLite file of the test's, with their output kept.
 */
import type { Test } from "tap";
import { spawn } from "node:child_process";
import { compileForMaster, root, type MasterBuild } from "../../supervisor/master-harness.js";

/** The fixture registry the workers load (see test/fixtures/tasks/reliability-tasks.ts). */
export const FIXTURE = "test/fixtures/tasks/reliability-tasks.ts";

/** Compiles what the workers run, once per test file. */
export function compileWorkers(t: Test): MasterBuild {
  return compileForMaster(t, ["lib/cli/bin.ts", "lib/tasks/worker-process/task-worker-main.ts", "lib/tasks/worker/process-pool-child.ts", FIXTURE]);
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A running `laminar worker` master. */
export interface Master {
  output(): string;
  /** Pids of workers that reported listening, in order. */
  listening(): number[];
  exited: Promise<number | null>;
  kill(signal: NodeJS.Signals): void;
}

/**
 * Runs `laminar worker <fixture> ...args` on `db` (a SQLite file, or with `LAMINAR_TEST_TASKS_URL` in
 * `env` any broker URL), executions recorded in `executions`; SIGKILLed when `t` ends.
 */
export function startWorkers(t: Test, build: MasterBuild, db: string, executions: string, args: string[], env: NodeJS.ProcessEnv = {}): Master {
  const child = spawn(process.execPath, [build.js("lib/cli/bin.ts"), "worker", build.js(FIXTURE), ...args], {
    cwd: root,
    env: { ...process.env, LAMINAR_TEST_TASKS_DB: db, LAMINAR_TEST_EXECUTIONS: executions, LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  t.teardown(() => {
    child.kill("SIGKILL");
    // A worker the master forked inherits these pipes; one still alive must not keep this test process open.
    child.stdout?.destroy();
    child.stderr?.destroy();
    child.unref();
  });
  let text = "";
  child.stdout!.on("data", (chunk: Buffer) => (text += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (text += chunk.toString()));
  return {
    output: () => text,
    listening: () =>
      text.split("\n").flatMap((line) => {
        if (!line.includes("supervisor: worker listening")) return [];
        try {
          return [(JSON.parse(line) as { worker: number }).worker];
        } catch {
          return [];
        }
      }),
    exited: new Promise((resolve) => child.on("exit", (code) => resolve(code))),
    kill: (signal) => void child.kill(signal),
  };
}

/** True while `pid` exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls `probe` every 50 ms until it gives a value; throws with the output's tail after `ms`. */
export async function until<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, what: string, output: () => string, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${output().slice(-4000)}`);
    await sleep(50);
  }
}

