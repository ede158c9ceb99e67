/**
 * The task queues `npm run bench:tasks` compares, each as a worker process and a publisher process
 * doing the same work: the publisher sends `count` no-op tasks one at a time (as a web app would,
 * one per request), then waits for every result in publish order with the queue's own result API;
 * the worker runs them with 64 concurrent slots (Celery's solo pool runs one at a time: it is
 * measured the way the issue quotes it, `celery worker -P solo`).
 *
 * Each contender gets a namespace of its own on the shared Redis (a key prefix or a queue name) and
 * deletes what it wrote when its round ends.
 *
 * @module
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { connectBroker } from "../../lib/tasks/connect.js";
import { pinned } from "../server-process.js";

const here = fileURLToPath(new URL(".", import.meta.url));
const bin = fileURLToPath(new URL("../../lib/cli/bin.js", import.meta.url));
/** The Python fixtures stay in the source tree (tsc copies no .py into dist/). */
const pythonDir = fileURLToPath(new URL("../../../bench/tasks/", import.meta.url));
/** Debian's Python, which has celery and redis (a pyenv `python3` earlier in PATH may not). */
const PYTHON = "/usr/bin/python3";
/** The Redis every Redis contender uses. */
export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379/0";

/** A command line, already pinned to its core. */
export interface Command {
  file: string;
  args: string[];
}

/** One contender's round, once its worker consumes. */
export interface StartedRound {
  /** The worker process (its RSS is sampled during the round). */
  worker: ChildProcess;
  /** The publisher to run; it prints `{count, wrong, publishMs, totalMs}` as its last line. */
  publisher: Command;
  /** The environment both processes get. */
  env: NodeJS.ProcessEnv;
  /** Stops the worker and deletes what the round left (files, Redis keys). */
  cleanup(): Promise<void>;
}

/** A task queue under test. */
export interface TaskContender {
  /** Short name shown in the table. */
  name: string;
  /** What runs, in a line. */
  description: string;
  /** Undefined when it can run here; else why it is skipped. */
  missing(): Promise<string | undefined>;
  /** Tasks per round: Celery's solo pool is ~15× slower, so it gets fewer to keep the bench short. */
  count(base: number): number;
  /** Starts the worker (pinned to core 0) and resolves once it consumes. */
  start(count: number, concurrency: number): Promise<StartedRound>;
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(child.exitCode) : child.once("exit", (code) => resolve(code))));
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited(child);
  clearTimeout(timer);
}

/** Resolves when `stream` of `child` prints a line matching `pattern` (bounded by 30 s). */
function waitForLine(child: ChildProcess, stream: "stdout" | "stderr", pattern: RegExp): Promise<void> {
  return new Promise((resolve, reject) => {
    const source = child[stream];
    if (source === null) return reject(new Error(`the worker's ${stream} is not piped`));
    let seen = "";
    const timer = setTimeout(() => finish(new Error(`the worker did not print ${pattern} within 30 s:\n${seen.slice(-2000)}`)), 30_000);
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString();
      if (pattern.test(seen)) finish();
    };
    const onExit = (code: number | null): void => finish(new Error(`the worker exited with ${code} before it was ready:\n${seen.slice(-2000)}`));
    function finish(error?: Error): void {
      clearTimeout(timer);
      source?.off("data", onData);
      child.off("exit", onExit);
      // Keep draining the pipe, or a chatty worker blocks on a full one.
      source?.resume();
      if (error) reject(error);
      else resolve();
    }
    source.on("data", onData);
    child.once("exit", onExit);
  });
}

/** Waits (bounded) until a laminar worker has reported itself to the broker: it is consuming. */
async function waitForLaminarWorker(url: string, worker: ChildProcess): Promise<void> {
  const broker = connectBroker(url);
  try {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (worker.exitCode !== null) throw new Error(`the worker exited with ${worker.exitCode} before it consumed`);
      if ((await broker.workers(10_000)).length > 0) return;
      await new Promise((done) => setTimeout(done, 50));
    }
    throw new Error("the worker did not report itself within 30 s");
  } finally {
    await broker.close();
  }
}

/** Deletes every key matching `pattern` (SCAN, never KEYS, so a shared Redis is not blocked). */
async function deleteKeys(pattern: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}

/** Undefined when Redis answers PING within a second. */
async function redisMissing(): Promise<string | undefined> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1_000, retryStrategy: () => null });
  try {
    await redis.connect();
    await redis.ping();
    return undefined;
  } catch (error) {
    return `no Redis at ${REDIS_URL} (${(error as Error).message})`;
  } finally {
    redis.disconnect();
  }
}

function nodeProcess(core: number, script: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const command = pinned(core, process.execPath, [script, ...args]);
  return spawn(command.file, command.args, { env, stdio: ["ignore", "pipe", "pipe"] });
}

function laminarWorker(url: string, concurrency: number, env: NodeJS.ProcessEnv): ChildProcess {
  const args = ["worker", join(here, "noop-tasks.js"), "--concurrency", String(concurrency), "--pool", "async", "--log-level", "warn"];
  const worker = nodeProcess(0, bin, args, env);
  worker.stdout?.resume();
  worker.stderr?.pipe(process.stderr);
  return worker;
}

/**
 * Starts a laminar worker on `url` (broker and backend) and waits until it consumes; `forget`
 * deletes what the round stored once the worker has stopped.
 */
async function startLaminar(url: string, count: number, concurrency: number, forget: () => Promise<void>): Promise<StartedRound> {
  const env = { ...process.env, TASKS_URL: url, COUNT: String(count), LOG_LEVEL: "warn" };
  const worker = laminarWorker(url, concurrency, env);
  const cleanup = async (): Promise<void> => {
    await stop(worker);
    await forget();
  };
  await waitForLaminarWorker(url, worker).catch(async (error: unknown) => {
    await cleanup();
    throw error;
  });
  return { worker, env, publisher: pinned(1, process.execPath, [join(here, "publisher.js")]), cleanup };
}

/** laminar on its embedded SQLite broker and backend (one file shared by both processes). */
export const laminarSqlite: TaskContender = {
  name: "laminar sqlite",
  description: "laminar worker, async pool, SQLite file broker + backend",
  missing: async () => undefined,
  count: (base) => base,
  start(count, concurrency) {
    const dir = mkdtempSync(join(tmpdir(), "laminar-bench-tasks-"));
    return startLaminar(`sqlite://${join(dir, "tasks.db")}`, count, concurrency, async () => rmSync(dir, { recursive: true, force: true }));
  },
};

/** laminar on Redis: kombu's message format and Celery's result keys (what Python Celery reads). */
export const laminarRedis: TaskContender = {
  name: "laminar redis",
  description: "laminar worker, async pool, Redis broker (kombu format) + Redis backend (Celery keys)",
  missing: redisMissing,
  count: (base) => base,
  start(count, concurrency) {
    const prefix = `laminar-bench-${randomBytes(4).toString("hex")}:`;
    return startLaminar(`${REDIS_URL}?global_keyprefix=${encodeURIComponent(prefix)}`, count, concurrency, () => deleteKeys(`${prefix}*`));
  },
};

/** BullMQ (the Node.js queue most teams pick), same Redis, same concurrency. */
export const bullmq: TaskContender = {
  name: "bullmq",
  description: "BullMQ Worker, concurrency 64; Queue.add + job.waitUntilFinished",
  missing: async () => {
    try {
      await import("bullmq");
    } catch {
      return "bullmq is not installed (npm install --save-dev bullmq)";
    }
    return redisMissing();
  },
  count: (base) => base,
  async start(count, concurrency) {
    const prefix = `bull-bench-${randomBytes(4).toString("hex")}`;
    const env = { ...process.env, REDIS_URL, BULLMQ_PREFIX: prefix, BULLMQ_QUEUE: "bench", COUNT: String(count), CONCURRENCY: String(concurrency) };
    const worker = nodeProcess(0, join(here, "bullmq-worker.js"), [], env);
    worker.stderr?.pipe(process.stderr);
    const cleanup = async (): Promise<void> => {
      await stop(worker);
      await deleteKeys(`${prefix}:*`);
    };
    await waitForLine(worker, "stdout", /^ready$/m).catch(async (error: unknown) => {
      await cleanup();
      throw error;
    });
    return { worker, env, publisher: pinned(1, process.execPath, [join(here, "bullmq-publisher.js")]), cleanup };
  },
};

/** Python Celery 5.2 (Debian's), solo pool, the same Redis as broker and backend. */
export const celery: TaskContender = {
  name: "celery solo",
  description: "Python Celery worker -P solo; delay() + AsyncResult.get()",
  async missing() {
    const probe = spawnSync(PYTHON, ["-c", "import celery, redis"], { encoding: "utf8", timeout: 20_000 });
    if (probe.status !== 0) return `Python Celery is not importable by ${PYTHON} (apt-get install python3-celery python3-redis)`;
    return redisMissing();
  },
  count: (base) => Math.max(1, Math.round(base / 5)),
  async start(count) {
    const queue = `celery-bench-${randomBytes(4).toString("hex")}`;
    const env = { ...process.env, REDIS_URL, CELERY_QUEUE: queue, COUNT: String(count) };
    const args = ["-m", "celery", "-A", "celery_bench", "worker", "-P", "solo", "-Q", queue, "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info"];
    const command = pinned(0, PYTHON, args);
    const worker = spawn(command.file, command.args, { env, cwd: pythonDir, stdio: ["ignore", "pipe", "pipe"] });
    worker.stdout?.resume();
    const cleanup = async (): Promise<void> => {
      await stop(worker);
      await deleteKeys(`${queue}*`);
      await deleteKeys(`_kombu.binding.${queue}`);
    };
    await waitForLine(worker, "stderr", /ready\./).catch(async (error: unknown) => {
      await cleanup();
      throw error;
    });
    return { worker, env, publisher: { ...pinned(1, PYTHON, [join(pythonDir, "celery_bench.py")]) }, cleanup };
  },
};

/** Every contender, laminar on Redis first: the ratios are against it. */
export const TASK_CONTENDERS: readonly TaskContender[] = [laminarRedis, bullmq, celery, laminarSqlite];
