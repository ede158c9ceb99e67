/**
 * The interop harness: runs real Python Celery (Debian's python3-celery, `/usr/bin/python3 -m celery`)
 * next to laminar. A test probes first ({@link interopSkip}) and skips with the reason when Python
 * Celery or a broker is absent; it starts a Python worker on a queue of its own ({@link startPythonWorker},
 * killed at teardown) or sends a task as a Python client ({@link runPythonClient}).
 *
 * The Python side is `test/fixtures/celery/celeryapp.py` (tasks.add, tasks.fail, tasks.retry_once,
 * tasks.sleep, tasks.echo) and `client.py`. Every wait is bounded.
 *
 * @module
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { connect } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Debian's Python, which has celery, redis and amqp (a pyenv `python3` earlier in PATH may not). */
export const PYTHON = "/usr/bin/python3";
/** The folder of the Python fixtures; the worker and the client run with it as cwd. */
export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "celery");
/** The services on the project's machines. */
export const REDIS_URL = "redis://127.0.0.1:6379/0";
/** RabbitMQ, guest/guest. */
export const AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//";
/** The same RabbitMQ as amqplib spells it (the vhost `/` is the default). */
export const AMQP_URL_NODE = "amqp://guest:guest@127.0.0.1:5672";

/** A name no other test uses: `prefix.<random>`. */
export function uniqueName(prefix: string): string {
  return `${prefix}.${randomBytes(6).toString("hex")}`;
}

/** True when something accepts TCP connections on 127.0.0.1:`port` within `timeoutMs`. */
export function portOpen(port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    const done = (open: boolean): void => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

let pythonProbe: Promise<string | undefined> | undefined;

/** Undefined when Python Celery can be imported; else why not. Probed once per process. */
export function pythonCeleryMissing(): Promise<string | undefined> {
  pythonProbe ??= new Promise((resolve) => {
    const child = spawn(PYTHON, ["-c", "import celery, redis, amqp"], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => void (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.once("error", (error) => {
      clearTimeout(timer);
      resolve(`${PYTHON} cannot run (${error.message}): install python3-celery python3-redis python3-amqp`);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code === 0 ? undefined : `Python Celery is not installed (${stderr.trim().split("\n").pop() ?? code}): apt-get install python3-celery python3-redis python3-amqp`);
    });
  });
  return pythonProbe;
}

/** What an interop test needs. */
export interface InteropNeeds {
  python?: boolean;
  redis?: boolean;
  rabbitmq?: boolean;
}

/**
 * The reason to skip, or false when everything `needs` names is there.
 *
 * @example
 * t.test("…", { skip: await interopSkip({ python: true, redis: true }) }, async (t) => { … });
 */
export async function interopSkip(needs: InteropNeeds): Promise<string | false> {
  if (needs.redis && !(await portOpen(6379))) return "Redis is not running on 127.0.0.1:6379";
  if (needs.rabbitmq && !(await portOpen(5672))) return "RabbitMQ is not running on 127.0.0.1:5672";
  if (needs.python) {
    const missing = await pythonCeleryMissing();
    if (missing) return missing;
  }
  return false;
}

/** Where the Python side connects. */
export interface PythonEnv {
  broker: string;
  backend: string;
  /** Sets Celery's task_queue_max_priority (must match how laminar declared the queue on RabbitMQ). */
  maxPriority?: number;
}

function pythonEnv(env: PythonEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {
    ...process.env,
    LAMINAR_CELERY_BROKER: env.broker,
    LAMINAR_CELERY_BACKEND: env.backend,
    PYTHONUNBUFFERED: "1",
    PYTHONDONTWRITEBYTECODE: "1",
  };
  if (env.maxPriority !== undefined) out.LAMINAR_CELERY_MAX_PRIORITY = String(env.maxPriority);
  return out;
}

/** A running Python Celery worker. */
export interface PythonWorker {
  readonly queue: string;
  /** Everything it logged so far (stdout and stderr). */
  output(): string;
  /** SIGTERM, then SIGKILL after a bounded wait; resolves once it exited. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts `celery -A celeryapp worker -P solo -Q <queue>` and resolves once it logs `ready.`
 * (rejects, after killing it, when it does not within `readyTimeoutMs`).
 */
export async function startPythonWorker(env: PythonEnv & { queue: string; readyTimeoutMs?: number }): Promise<PythonWorker> {
  const args = ["-m", "celery", "-A", "celeryapp", "worker", "-P", "solo", "-Q", env.queue, "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info", "-n", `${env.queue}@%h`];
  const child: ChildProcess = spawn(PYTHON, args, { cwd: FIXTURES, env: pythonEnv(env), stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  const append = (chunk: Buffer): void => void (log += chunk.toString());
  child.stdout!.on("data", append);
  child.stderr!.on("data", append);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    child.once("exit", () => resolve());
    child.once("error", () => resolve());
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    }
  };
  const deadline = Date.now() + (env.readyTimeoutMs ?? 30_000);
  while (!/ready\./.test(log)) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`the Python Celery worker did not start:\n${log.slice(-4_000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { queue: env.queue, output: () => log, stop };
}

/** What `client.py` is asked to send. */
export interface ClientSpec {
  name: string;
  args?: unknown[];
  kwargs?: Record<string, unknown>;
  queue: string;
  countdown?: number;
  priority?: number;
  /** Seconds `AsyncResult.get` waits. */
  timeout?: number;
}

/** What `client.py` printed: the value, or the exception Python raised. */
export type ClientOutcome =
  | { ok: true; value: unknown; id: string; state: string }
  | { ok: false; type: string; module: string; message: string; args: string[]; id: string; state: string };

/**
 * Sends a task as a Python client (`app.send_task`) and returns what `AsyncResult.get()` gave.
 * Rejects when the script fails or runs longer than the task's timeout plus 20 s.
 */
export function runPythonClient(env: PythonEnv, spec: ClientSpec): Promise<ClientOutcome> {
  return runPythonScript<ClientOutcome>(env, "client.py", spec, (spec.timeout ?? 20) + 20);
}

/** One task of a chord started from Python: a Python or a laminar task, by name and queue. */
export interface ChordMemberSpec {
  name: string;
  args?: unknown[];
  queue: string;
}

/** Starts a chord from Python (`chord(header)(body)`) and waits for the body's result there. */
export function runPythonChord(env: PythonEnv, spec: { header: ChordMemberSpec[]; body: ChordMemberSpec; timeout?: number }): Promise<ClientOutcome> {
  return runPythonScript<ClientOutcome>(env, "chord.py", spec, (spec.timeout ?? 30) + 20);
}

/** Revokes task ids from Python (`app.control.revoke`: a broadcast on `celery.pidbox`). */
export async function revokeFromPython(env: PythonEnv, ids: string[], terminate = false): Promise<void> {
  await runPythonScript(env, "revoke.py", { ids, terminate }, 30);
}

/** Runs a fixture script with `spec` as its JSON argument; resolves with the last line it printed, parsed. */
function runPythonScript<T>(env: PythonEnv, script: string, spec: unknown, timeoutSeconds: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [join(FIXTURES, script), JSON.stringify(spec)], { cwd: FIXTURES, env: pythonEnv(env), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => void (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => void (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutSeconds * 1_000);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      const line = stdout.trim().split("\n").pop() ?? "";
      try {
        resolve(JSON.parse(line) as T);
      } catch {
        reject(new Error(`${script} exited ${code ?? signal} without a result:\n${stdout}\n${stderr.slice(-4_000)}`));
      }
    });
  });
}
