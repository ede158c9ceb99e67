/**
 * Starting and stopping contender servers: a free port, the process (pinned to a core with
 * `taskset` when the machine has more than one), a bounded wait until the port accepts, and a
 * kill by process id.
 *
 * @module
 */
import { spawn, type ChildProcess } from "node:child_process";
import { connect, createServer } from "node:net";
import { cpus } from "node:os";

/** True when the server and the load generator can each have a core of their own. */
export const CAN_PIN = cpus().length > 1;

/** `command args` run on `core` through `taskset` when pinning is possible, else unchanged. */
export function pinned(core: number, file: string, args: readonly string[], pin = CAN_PIN): { file: string; args: string[] } {
  return pin ? { file: "taskset", args: ["-c", String(core), file, ...args] } : { file, args: [...args] };
}

/** A TCP port free on 127.0.0.1 right now (bound to 0, read, released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/** Resolves once `port` accepts a connection; rejects after `timeoutMs` or when `child` exits first. */
export async function waitForPort(port: number, child?: ChildProcess, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child !== undefined && child.exitCode !== null) throw new Error(`exited with code ${child.exitCode} before listening`);
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
  throw new Error(`did not listen on port ${port} within ${timeoutMs} ms`);
}

/** A started server. */
export interface RunningServer {
  readonly port: number;
  readonly process: ChildProcess;
  /** Its pid (the server itself: `taskset` execs it). */
  readonly pid: number;
  /** Kills it (SIGKILL) and waits (bounded) for it to exit. */
  stop(): Promise<void>;
}

/**
 * Starts `file args` with `PORT` set, pinned to core 0, and waits until it listens. Its output
 * goes to this process's stderr, so a crash is visible.
 */
export async function startServer(command: { file: string; args: string[] }, port: number, pin = CAN_PIN): Promise<RunningServer> {
  const { file, args } = pinned(0, command.file, command.args, pin);
  const child = spawn(file, args, {
    env: { ...process.env, PORT: String(port), NODE_ENV: "production" },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
  };
  try {
    await waitForPort(port, child);
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, process: child, pid: child.pid!, stop };
}
