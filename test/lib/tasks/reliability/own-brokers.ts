/**
 * Brokers a test starts, kills and restarts itself: a `redis-server` and a RabbitMQ node, each on a
 * free port with its data in a temporary folder, so the shared services on 6379/5672 are never
 * touched. What survives a restart is what the broker persisted: Redis with an append-only file
 * fsynced on every write, RabbitMQ with its durable queues and persistent messages.
 *
 * Each start probes for the binary; {@link ownRedisMissing} and {@link ownRabbitMissing} give the
 * reason a test skips.
 */
import type { Test } from "tap";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { portOpen } from "../../../interop/celery-harness.js";

/** Debian's RabbitMQ start script, run directly (not `/usr/sbin/rabbitmq-server`, which `su`s to the rabbitmq user). */
const RABBIT_BIN = "/usr/lib/rabbitmq/bin/rabbitmq-server";

/** A free TCP port on 127.0.0.1 (bound and released; the broker binds it next). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Polls until something accepts connections on `port` (or `open` false: until nothing does). */
async function waitForPort(port: number, open: boolean, ms: number, log: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while ((await portOpen(port, 500)) !== open) {
    if (Date.now() > deadline) throw new Error(`port ${port} did not ${open ? "open" : "close"} within ${ms} ms:\n${log().slice(-3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A broker process the test owns. */
export interface OwnBroker {
  /** The URL clients connect to. */
  url: string;
  port: number;
  /** SIGKILLs the broker (and its process group): an abrupt loss, as a crash or a power cut. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data, resolving once it accepts connections. */
  restart(): Promise<void>;
}

function killGroup(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    // Started with detached: true, so the negative pid is the broker's whole process group.
    process.kill(-(child.pid as number), "SIGKILL");
  } catch {
    child.kill("SIGKILL");
  }
  return exited;
}

/**
 * Runs `command` (in its own process group) as the broker listening on `port`, its data in `dir`:
 * started now and by `restart()`, SIGKILLed by `kill()`, and killed with `dir` removed when `t` ends.
 */
async function ownBroker(t: Test, url: string, port: number, dir: string, command: { file: string; args: string[]; env?: NodeJS.ProcessEnv; bootMs: number }): Promise<OwnBroker> {
  let child: ChildProcess | undefined;
  let log = "";
  const start = async (): Promise<void> => {
    child = spawn(command.file, command.args, { env: command.env ?? process.env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout?.on("data", (chunk: Buffer) => (log += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (log += chunk.toString()));
    await waitForPort(port, true, command.bootMs, () => log);
  };
  t.teardown(async () => {
    await killGroup(child);
    rmSync(dir, { recursive: true, force: true });
  });
  await start();
  return {
    url,
    port,
    kill: async () => {
      await killGroup(child);
      await waitForPort(port, false, 10_000, () => log);
    },
    restart: start,
  };
}

/** Undefined when `redis-server` can run here; else why not. */
export function ownRedisMissing(): string | undefined {
  const probe = spawnSync("redis-server", ["--version"], { encoding: "utf8" });
  return probe.status === 0 ? undefined : "redis-server is not installed (apt-get install redis-server)";
}

/** Starts a `redis-server` of the test's own (append-only, fsync always); killed when `t` ends. */
export async function startOwnRedis(t: Test): Promise<OwnBroker> {
  const dir = mkdtempSync(join(tmpdir(), "laminar-own-redis-"));
  const port = await freePort();
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--appendonly", "yes", "--appendfsync", "always", "--save", ""];
  return ownBroker(t, `redis://127.0.0.1:${port}/0`, port, dir, { file: "redis-server", args, bootMs: 20_000 });
}

/** Undefined when a RabbitMQ node can be started here; else why not. */
export function ownRabbitMissing(): string | undefined {
  if (!existsSync(RABBIT_BIN)) return `RabbitMQ is not installed (${RABBIT_BIN} is missing; apt-get install rabbitmq-server)`;
  return undefined;
}

/**
 * Starts a RabbitMQ node of the test's own: its own node name, AMQP and distribution ports, config,
 * data and logs, no plugins (a boot takes ~5 s here). Killed when `t` ends.
 */
export async function startOwnRabbit(t: Test): Promise<OwnBroker> {
  const dir = mkdtempSync(join(tmpdir(), "laminar-own-rabbit-"));
  const port = await freePort();
  const distPort = await freePort();
  mkdirSync(join(dir, "log"));
  writeFileSync(join(dir, "enabled_plugins"), "[].\n");
  // The system's /etc/rabbitmq/rabbitmq.conf pins the listener to 5672; this file replaces it.
  writeFileSync(join(dir, "rabbitmq.conf"), `listeners.tcp.local = 127.0.0.1:${port}\n`);
  const env = {
    ...process.env,
    RABBITMQ_NODENAME: `laminar-${randomBytes(4).toString("hex")}@localhost`,
    RABBITMQ_CONFIG_FILE: join(dir, "rabbitmq.conf"),
    // Not the system's rabbitmq-env.conf (it sets the node name rabbit@localhost).
    RABBITMQ_CONF_ENV_FILE: join(dir, "rabbitmq-env.conf"),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: join(dir, "mnesia"),
    RABBITMQ_MNESIA_DIR: join(dir, "mnesia", "node"),
    RABBITMQ_FEATURE_FLAGS_FILE: join(dir, "feature_flags"),
    RABBITMQ_PLUGINS_EXPAND_DIR: join(dir, "plugins-expand"),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, "enabled_plugins"),
    RABBITMQ_PID_FILE: join(dir, "pid"),
    RABBITMQ_LOG_BASE: join(dir, "log"),
  };
  return ownBroker(t, `amqp://guest:guest@127.0.0.1:${port}`, port, dir, { file: RABBIT_BIN, args: [], env, bootMs: 40_000 });
}
