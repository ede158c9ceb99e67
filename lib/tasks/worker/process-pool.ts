/**
 * The process pool: Celery's prefork pool. `size` child processes each load the task registry once
 * and run one task at a time; {@link ProcessPool.execute} waits for a free child when all are busy.
 * A CPU-bound task blocks its child, not the worker's event loop (leases keep being renewed,
 * heartbeats keep going), and a hard time limit can stop it for real: the child is SIGKILLed and
 * replaced, which the async pool cannot do to a busy loop.
 *
 * A child that dies mid-task (killed from outside, out of memory, a crash) fails that execution
 * with {@link WorkerLostError} and is replaced; with `acksLate` the message runs again elsewhere.
 * Children are recycled after `maxTasksPerChild` tasks or above `maxMemoryPerChild` bytes of RSS
 * (Celery's `worker_max_tasks_per_child` / `worker_max_memory_per_child`), against leaks in task code.
 *
 * The child runs compiled JavaScript: `process-pool-child.js` next to this module. Run from the
 * TypeScript sources (tests, a TS loader), that file does not exist and the `.ts` one is forked
 * with this process's `execArgv`, i.e. with the loader that is running this very module.
 *
 * @module
 */
import { fork, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { TaskMessage } from "../message.js";
import type { ExecutionControl, TaskPool } from "./pool.js";
import { decodeError, isFromChild, type FromChild, type ToChild } from "./process-pool-protocol.js";
import { TimeLimitExceeded, WorkerLostError } from "../../errors.js";
import { silentLogger, type Logger } from "../../logger.js";

/** Options of a {@link ProcessPool}. */
export interface ProcessPoolOptions {
  /** What each child imports to find the registry: `module[:export]`, as `laminar worker` takes it (default export `tasks`). */
  target: string;
  /** Children (tasks running at once). */
  size: number;
  /** Directory `target` is relative to. Default `process.cwd()`. */
  cwd?: string;
  /** A child is replaced after this many tasks; absent or 0: never. */
  maxTasksPerChild?: number;
  /** A child whose RSS is above this many bytes after a task is replaced; absent or 0: never. */
  maxMemoryPerChild?: number;
  /** Node flags of the children. Default this process's (minus `--inspect*`, whose port would clash). */
  execArgv?: string[];
  /** The child entry. Default the `process-pool-child` module next to this one (see the module comment). */
  entry?: string;
  logger?: Logger;
}

/** The default child entry and the flags it needs: the compiled `.js`, else the `.ts` source under this process's loader. */
function defaultEntry(): { file: string; fromSource: boolean } {
  const js = fileURLToPath(new URL("./process-pool-child.js", import.meta.url));
  if (existsSync(js)) return { file: js, fromSource: false };
  return { file: js.replace(/\.js$/, ".ts"), fromSource: true };
}

/** One execution, from `execute()` to its settlement. */
interface Job {
  readonly id: number;
  readonly message: TaskMessage;
  readonly control: ExecutionControl;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  settled: boolean;
  slot: Slot | undefined;
  timers: NodeJS.Timeout[];
  onAbort: () => void;
}

/** One child process. */
interface Slot {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Said `ready` (its registry loaded). */
  ready: boolean;
  /** Being replaced (recycled, killed): takes no more work, does not count towards `size`. */
  retiring: boolean;
  job: Job | undefined;
  tasks: number;
  exited: Promise<void>;
}

/**
 * Runs tasks in child processes (see the module comment).
 *
 * @example
 * const pool = new ProcessPool({ target: "dist/tasks.js", size: os.availableParallelism() });
 * await pool.start(); // optional: fail early if the children cannot load the registry
 * const worker = new Worker(registry, { pool, concurrency: pool.size });
 */
export class ProcessPool implements TaskPool {
  readonly kind = "process" as const;
  /** Children kept running. */
  readonly size: number;
  private readonly options: ProcessPoolOptions;
  private readonly entry: string;
  private readonly execArgv: string[];
  private readonly logger: Logger;
  private readonly slots = new Set<Slot>();
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;
  /** Set when a child could not load the registry: every later child would fail the same way. */
  private failure: Error | undefined;
  private readyWaiters: Array<() => void> = [];

  constructor(options: ProcessPoolOptions) {
    if (!Number.isInteger(options.size) || options.size < 1) throw new RangeError(`ProcessPool size must be a positive integer, got ${options.size}`);
    this.options = options;
    this.size = options.size;
    this.logger = options.logger ?? silentLogger;
    const fallback = defaultEntry();
    this.entry = options.entry ?? fallback.file;
    this.execArgv = options.execArgv ?? process.execArgv.filter((arg) => !arg.startsWith("--inspect"));
    if (options.entry === undefined && fallback.fromSource && options.execArgv !== undefined) {
      // The .ts entry needs a loader; the caller's flags replace ours, so keep the loader in front.
      this.execArgv = [...process.execArgv.filter((arg) => !arg.startsWith("--inspect")), ...options.execArgv];
    }
  }

  /** Pids of the children alive now (replaced ones included until they exit). */
  get pids(): number[] {
    return [...this.slots].map((slot) => slot.pid);
  }

  /**
   * Forks the children and resolves once each has loaded the registry; rejects with the reason
   * when one cannot (an import error, no registry exported). Optional: `execute` forks them too.
   */
  async start(): Promise<void> {
    this.fill();
    while (this.failure === undefined && !this.closed && [...this.slots].some((slot) => !slot.retiring && !slot.ready)) {
      await new Promise<void>((wake) => this.readyWaiters.push(wake));
    }
    if (this.failure !== undefined) throw this.failure;
    if (this.closed) throw new Error("The process pool is closed");
  }

  execute(message: TaskMessage, control: ExecutionControl): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error("The process pool is closed"));
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (control.signal.aborted) return Promise.reject(control.signal.reason);
    return new Promise((resolve, reject) => {
      const job: Job = { id: this.nextId++, message, control, resolve, reject, settled: false, slot: undefined, timers: [], onAbort: () => {} };
      job.onAbort = () => this.abort(job, control.signal.reason);
      control.signal.addEventListener("abort", job.onAbort, { once: true });
      this.queue.push(job);
      this.pump();
    });
  }

  /** Kills the children (running executions reject with WorkerLostError) and rejects the queued ones. */
  async close(): Promise<void> {
    if (this.closed) {
      await Promise.all([...this.slots].map((slot) => slot.exited));
      return;
    }
    this.closed = true;
    for (const job of this.queue.splice(0)) this.settle(job, new Error("The process pool was closed before the task started"));
    for (const slot of this.slots) {
      if (slot.job !== undefined) this.settle(slot.job, new WorkerLostError("the process pool was closed"));
      slot.retiring = true;
      slot.child.kill("SIGKILL");
    }
    this.wakeReadyWaiters();
    await Promise.all([...this.slots].map((slot) => slot.exited));
  }

  /** Keeps `size` live children (not counting those being replaced). */
  private fill(): void {
    if (this.closed || this.failure !== undefined) return;
    let live = 0;
    for (const slot of this.slots) if (!slot.retiring) live++;
    for (; live < this.size; live++) this.spawn();
  }

  /** Hands queued executions to idle children. */
  private pump(): void {
    this.fill();
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (!slot.ready || slot.retiring || slot.job !== undefined) continue;
      this.dispatch(slot, this.queue.shift() as Job);
    }
  }

  private dispatch(slot: Slot, job: Job): void {
    slot.job = job;
    job.slot = slot;
    const { softTimeLimitMs, hardTimeLimitMs } = job.control;
    // The limits count from the start in a child, not from execute(): waiting for a free child is not running.
    if (softTimeLimitMs !== undefined && softTimeLimitMs > 0) {
      job.timers.push(setTimeout(() => this.send(slot, { type: "soft", id: job.id, seconds: softTimeLimitMs / 1000 }), softTimeLimitMs));
    }
    if (hardTimeLimitMs !== undefined && hardTimeLimitMs > 0) {
      job.timers.push(setTimeout(() => this.abort(job, new TimeLimitExceeded(hardTimeLimitMs / 1000)), hardTimeLimitMs));
    }
    this.send(slot, { type: "run", id: job.id, message: job.message });
  }

  /** Stops an execution with `reason`: a queued one leaves the queue, a running one's child is killed. */
  private abort(job: Job, reason: unknown): void {
    if (job.settled) return;
    const slot = job.slot;
    if (slot === undefined) {
      const index = this.queue.indexOf(job);
      if (index >= 0) this.queue.splice(index, 1);
    } else {
      // A task cannot be interrupted inside its process (a busy loop never yields): the process goes.
      this.logger.warn({ pid: slot.pid, task: job.message.task, id: job.message.id, reason: String(reason) }, "process pool: killing the child running the task");
      this.retire(slot, "SIGKILL");
    }
    this.settle(job, reason);
  }

  private settle(job: Job, error: unknown, value?: unknown): void {
    if (job.settled) return;
    job.settled = true;
    for (const timer of job.timers) clearTimeout(timer);
    job.control.signal.removeEventListener("abort", job.onAbort);
    if (job.slot !== undefined && job.slot.job === job) job.slot.job = undefined;
    if (error !== undefined) job.reject(error);
    else job.resolve(value);
  }

  private spawn(): void {
    const child = fork(this.entry, [this.options.target, this.options.cwd ?? process.cwd()], {
      execArgv: this.execArgv,
      serialization: "json",
      // The task's own output goes where the worker's goes.
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    let exitedResolve!: () => void;
    const slot: Slot = {
      child,
      pid: child.pid as number,
      ready: false,
      retiring: false,
      job: undefined,
      tasks: 0,
      exited: new Promise<void>((done) => (exitedResolve = done)),
    };
    this.slots.add(slot);
    child.on("message", (message) => {
      if (isFromChild(message)) this.onMessage(slot, message);
    });
    // A fork that fails (EAGAIN) emits "error" and then perhaps no "exit": treated as a death either way.
    child.on("error", (error) => this.logger.error({ err: error, pid: slot.pid }, "process pool: child process error"));
    child.on("exit", (code, signal) => {
      this.onExit(slot, code, signal);
      exitedResolve();
    });
    this.logger.debug({ pid: slot.pid }, "process pool: child spawned");
  }

  private onMessage(slot: Slot, message: FromChild): void {
    switch (message.type) {
      case "ready":
        slot.ready = true;
        this.wakeReadyWaiters();
        return this.pump();
      case "boot-error":
        return this.fail(new Error(`The process pool's child could not load ${this.options.target}: ${message.message}`));
      case "done":
      case "failed": {
        const job = slot.job;
        if (job === undefined || job.id !== message.id) return;
        slot.tasks++;
        if (message.type === "done") this.settle(job, undefined, message.value);
        else this.settle(job, decodeError(message.error));
        this.maybeRecycle(slot, message.rss);
        return this.pump();
      }
    }
  }

  /** Replaces a child past its task or memory budget, between tasks. */
  private maybeRecycle(slot: Slot, rss: number): void {
    const { maxTasksPerChild, maxMemoryPerChild } = this.options;
    if (maxTasksPerChild !== undefined && maxTasksPerChild > 0 && slot.tasks >= maxTasksPerChild) {
      this.logger.info({ pid: slot.pid, tasks: slot.tasks }, "process pool: child reached maxTasksPerChild; replacing it");
      this.retire(slot, "SIGTERM");
    } else if (maxMemoryPerChild !== undefined && maxMemoryPerChild > 0 && rss > maxMemoryPerChild) {
      this.logger.info({ pid: slot.pid, rss, limit: maxMemoryPerChild }, "process pool: child above maxMemoryPerChild; replacing it");
      this.retire(slot, "SIGTERM");
    }
  }

  /**
   * Takes a child out of service. An idle one is disconnected (it closes its registry and exits),
   * SIGKILLed if it has not gone within a few seconds; a busy one is killed with `signal`.
   */
  private retire(slot: Slot, signal: "SIGTERM" | "SIGKILL"): void {
    if (slot.retiring) return;
    slot.retiring = true;
    if (signal === "SIGKILL") {
      slot.child.kill("SIGKILL");
      return;
    }
    if (slot.child.connected) slot.child.disconnect();
    const timer = setTimeout(() => slot.child.kill("SIGKILL"), 5_000);
    timer.unref();
    void slot.exited.then(() => clearTimeout(timer));
  }

  private onExit(slot: Slot, code: number | null, signal: NodeJS.Signals | null): void {
    this.slots.delete(slot);
    const how = signal !== null ? `signal ${signal}` : `exit code ${code}`;
    if (slot.job !== undefined) {
      this.logger.error({ pid: slot.pid, code, signal, task: slot.job.message.task, id: slot.job.message.id }, "process pool: child died while running a task");
      this.settle(slot.job, new WorkerLostError(`${how} (pid ${slot.pid}, task ${slot.job.message.task}[${slot.job.message.id}])`));
    } else if (!slot.retiring && !this.closed) {
      this.logger.warn({ pid: slot.pid, code, signal }, "process pool: child exited; replacing it");
    }
    // Dying before it ever said ready, unasked: most likely it cannot start at all. Stop rather than fork forever.
    if (!slot.ready && !slot.retiring && this.failure === undefined && !this.closed) {
      this.fail(new Error(`The process pool's child exited (${how}) before loading ${this.options.target}`));
    }
    this.pump();
  }

  /** Marks the pool as unable to start children: queued executions and later calls reject with `error`. */
  private fail(error: Error): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    this.logger.error({ err: error }, "process pool: children cannot start");
    for (const job of this.queue.splice(0)) this.settle(job, error);
    this.wakeReadyWaiters();
  }

  private wakeReadyWaiters(): void {
    for (const wake of this.readyWaiters.splice(0)) wake();
  }

  private send(slot: Slot, message: ToChild): void {
    // The channel closes when the child dies; its exit event settles what it was running.
    if (slot.child.connected) slot.child.send(message, undefined, {}, () => {});
  }
}
