/**
 * The arbiter: the supervisor's decisions, Gunicorn's `arbiter.py` in one class. It keeps N workers
 * alive, replaces the dead (with backoff when they die at boot), halts on a boot error instead of a
 * restart loop, kills workers whose heartbeat stops, and shuts down gracefully.
 *
 * It does no I/O of its own. Spawning, killing, time and timers are injected ({@link ArbiterDeps}),
 * so the decisions are unit-tested with fakes and no sleeps; `master.ts` wires in node:cluster.
 * Everything that happens to it — a signal, a worker's exit or message, a timer — is an
 * {@link ArbiterEvent} passed to {@link Arbiter.enqueue}, and one loop dispatches them in order, so
 * no decision ever runs in the middle of another (a signal handler only enqueues).
 *
 * @module
 */
import type { Logger } from "../logger.js";
import type { MasterMessage, ReportedRequest, WorkerMessage } from "./protocol.js";
import { EXIT_APP_LOAD_ERROR, EXIT_WORKER_BOOT_ERROR } from "./serve-config.js";

/** A running worker process as the arbiter sees it. */
export interface WorkerHandle {
  readonly pid: number;
  /** Sends a message over IPC; must not throw when the worker is already gone. */
  send(message: MasterMessage): void;
}

/** A cancellable timer. */
export interface Timer {
  cancel(): void;
}

/** Time as the arbiter sees it: milliseconds, and one-shot timers. */
export interface Clock {
  now(): number;
  setTimer(ms: number, callback: () => void): Timer;
}

/** The side effects the arbiter needs; real ones in `master.ts`, fakes in the tests. */
export interface ArbiterDeps {
  /** Starts one worker. Its exit and messages must come back as `exit` and `message` events. */
  spawn(): WorkerHandle;
  /** Sends a signal to a process; must not throw when it is already gone. */
  kill(pid: number, signal: NodeJS.Signals): void;
  clock: Clock;
  logger: Logger;
}

/** Settings; times in milliseconds. */
export interface ArbiterOptions {
  /** Workers to keep running. */
  workers: number;
  /** A worker silent (no heartbeat) this long is killed; 0 disables the check. */
  timeout: number;
  /** How long a graceful shutdown waits before killing what is left. */
  gracefulTimeout: number;
  /** A worker that dies sooner than this after it was spawned died "at boot": the next spawn backs off. Default 1000. */
  quickDeath?: number;
  /** First backoff delay; it doubles with each quick death in a row. Default 100. */
  backoffInitial?: number;
  /** Largest backoff delay. Default 5000. */
  backoffMax?: number;
}

/** Everything that can happen to the arbiter. */
export type ArbiterEvent =
  | { type: "signal"; signal: NodeJS.Signals }
  | { type: "exit"; pid: number; code: number | null; signal: NodeJS.Signals | null }
  | { type: "message"; pid: number; message: WorkerMessage }
  | { type: "timer"; name: "spawn" | "heartbeat" | "graceful" }
  /** A worker asked to retire (SIGTTOU) had its graceful timeout run out. */
  | { type: "retire-timeout"; pid: number };

/** What the arbiter knows of one worker. */
interface WorkerState {
  handle: WorkerHandle;
  spawnedAt: number;
  lastBeat: number;
  request: ReportedRequest | undefined;
  bootError: string | undefined;
  /** Asked to stop (TTOU or shutdown): its exit is not replaced. */
  retiring: boolean;
}

/** Exit code after a second SIGINT cut the graceful shutdown short: 128 + SIGINT, as a shell reports it. */
export const EXIT_SECOND_SIGINT = 130;

/** The signals the arbiter acts on; `master.ts` installs handlers for exactly these. */
export const HANDLED_SIGNALS: readonly NodeJS.Signals[] = ["SIGTERM", "SIGINT", "SIGQUIT", "SIGTTIN", "SIGTTOU"];

/**
 * The supervisor's decision core.
 *
 * @example
 * const arbiter = new Arbiter({ workers: 4, timeout: 30_000, gracefulTimeout: 30_000 }, deps);
 * process.on("SIGTERM", () => arbiter.enqueue({ type: "signal", signal: "SIGTERM" }));
 * const exitCode = await arbiter.run();
 */
export class Arbiter {
  private readonly options: Required<ArbiterOptions>;
  private readonly deps: ArbiterDeps;
  private readonly workers = new Map<number, WorkerState>();
  private readonly queue: ArbiterEvent[] = [];
  private dispatching = false;
  private target: number;
  private state: "idle" | "running" | "stopping" | "done" = "idle";
  private exitCode = 0;
  private backoff = 0;
  private spawnTimer: Timer | undefined;
  private heartbeatTimer: Timer | undefined;
  private gracefulTimer: Timer | undefined;
  private resolveExit: ((code: number) => void) | undefined;
  private readonly exited: Promise<number>;

  constructor(options: ArbiterOptions, deps: ArbiterDeps) {
    this.options = { quickDeath: 1000, backoffInitial: 100, backoffMax: 5000, ...options };
    this.deps = deps;
    this.target = Math.max(1, options.workers);
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
  }

  /** Spawns the workers; resolves with the master's exit code once every worker is gone. */
  run(): Promise<number> {
    if (this.state !== "idle") return this.exited;
    this.state = "running";
    this.deps.logger.info({ workers: this.target }, "supervisor: starting workers");
    this.manageWorkers();
    this.scheduleHeartbeatCheck();
    return this.exited;
  }

  /** Pids of the workers alive now (including those asked to stop). */
  get pids(): number[] {
    return [...this.workers.keys()];
  }

  /** How many workers the arbiter is keeping (changed by SIGTTIN/SIGTTOU). */
  get workerCount(): number {
    return this.target;
  }

  /** The current spawn backoff in milliseconds (0 when the last worker did not die at boot). */
  get currentBackoff(): number {
    return this.backoff;
  }

  /**
   * Queues an event and, unless an event is being dispatched already (the call came from inside a
   * decision), dispatches the queue in order.
   */
  enqueue(event: ArbiterEvent): void {
    this.queue.push(event);
    if (this.dispatching) return;
    this.dispatching = true;
    try {
      for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) this.dispatch(next);
    } finally {
      this.dispatching = false;
    }
  }

  private dispatch(event: ArbiterEvent): void {
    if (this.state === "done") return;
    switch (event.type) {
      case "signal":
        return this.onSignal(event.signal);
      case "exit":
        return this.onExit(event.pid, event.code, event.signal);
      case "message":
        return this.onMessage(event.pid, event.message);
      case "retire-timeout":
        if (this.workers.has(event.pid)) this.deps.kill(event.pid, "SIGKILL");
        return;
      case "timer":
        if (event.name === "spawn") {
          this.spawnTimer = undefined;
          return this.spawnMissing();
        }
        if (event.name === "heartbeat") return this.checkHeartbeats();
        this.gracefulTimer = undefined;
        return this.killAll("graceful timeout");
    }
  }

  private onSignal(signal: NodeJS.Signals): void {
    const logger = this.deps.logger;
    switch (signal) {
      case "SIGTERM":
      case "SIGINT":
        if (this.state === "stopping") {
          // A second SIGINT (Ctrl-C twice) means now; a repeated SIGTERM changes nothing.
          if (signal === "SIGINT" && this.exitCode === 0) {
            // The shell's code for "ended by SIGINT": the shutdown was cut short. A halt keeps its own code.
            this.exitCode = EXIT_SECOND_SIGINT;
            this.killAll("second SIGINT");
          }
          return;
        }
        logger.info({ signal }, "supervisor: graceful shutdown");
        return this.shutdown(0);
      case "SIGQUIT":
        logger.info({ signal }, "supervisor: immediate shutdown");
        if (this.state !== "stopping") this.shutdown(0);
        return this.killAll("SIGQUIT");
      case "SIGTTIN":
        if (this.state !== "running") return;
        this.target += 1;
        logger.info({ workers: this.target }, "supervisor: SIGTTIN, one worker more");
        return this.manageWorkers();
      case "SIGTTOU":
        if (this.state !== "running" || this.target <= 1) return;
        this.target -= 1;
        logger.info({ workers: this.target }, "supervisor: SIGTTOU, one worker fewer");
        return this.manageWorkers();
      default:
        return;
    }
  }

  private onMessage(pid: number, message: WorkerMessage): void {
    const worker = this.workers.get(pid);
    if (worker === undefined) return;
    switch (message.laminar) {
      case "heartbeat":
        worker.lastBeat = this.deps.clock.now();
        worker.request = message.request;
        return;
      case "listening":
        worker.lastBeat = this.deps.clock.now();
        this.deps.logger.info({ worker: pid, url: message.url }, "supervisor: worker listening");
        return;
      case "boot-error":
        worker.bootError = message.message;
        return;
    }
  }

  private onExit(pid: number, code: number | null, signal: NodeJS.Signals | null): void {
    const worker = this.workers.get(pid);
    if (worker === undefined) return;
    this.workers.delete(pid);
    const now = this.deps.clock.now();
    const logger = this.deps.logger;
    if (this.state === "stopping") {
      logger.info({ worker: pid, code, signal }, "supervisor: worker stopped");
      if (this.workers.size === 0) this.finish();
      return;
    }
    if (code === EXIT_APP_LOAD_ERROR || code === EXIT_WORKER_BOOT_ERROR) {
      // Replacing it would fail the same way, forever: halt with the worker's reason.
      const what = code === EXIT_APP_LOAD_ERROR ? "could not load the app" : "could not start (lifespan startup or listen failed)";
      logger.error({ worker: pid, code, error: worker.bootError }, `supervisor: worker ${what}; halting${worker.bootError !== undefined ? `: ${worker.bootError}` : ""}`);
      this.shutdown(code);
      return;
    }
    if (worker.retiring) {
      logger.info({ worker: pid, code, signal }, "supervisor: retired worker exited");
      return this.manageWorkers();
    }
    const lived = now - worker.spawnedAt;
    if (lived < this.options.quickDeath) {
      this.backoff = this.backoff === 0 ? this.options.backoffInitial : Math.min(this.backoff * 2, this.options.backoffMax);
    } else {
      this.backoff = 0;
    }
    logger.warn({ worker: pid, code, signal, livedMs: lived, backoffMs: this.backoff }, "supervisor: worker died; replacing it");
    this.manageWorkers();
  }

  /** Spawns up to the target (after the backoff, if any) or retires the oldest surplus workers. */
  private manageWorkers(): void {
    if (this.state !== "running") return;
    const active = [...this.workers.values()].filter((w) => !w.retiring);
    if (active.length < this.target) {
      if (this.spawnTimer !== undefined) return;
      if (this.backoff > 0) {
        this.spawnTimer = this.deps.clock.setTimer(this.backoff, () => this.enqueue({ type: "timer", name: "spawn" }));
        return;
      }
      return this.spawnMissing();
    }
    // Surplus (after SIGTTOU): the oldest go first, as Gunicorn's.
    active.sort((a, b) => a.spawnedAt - b.spawnedAt);
    for (const worker of active.slice(0, active.length - this.target)) this.retire(worker);
  }

  private spawnMissing(): void {
    if (this.state !== "running") return;
    let active = 0;
    for (const worker of this.workers.values()) if (!worker.retiring) active++;
    for (; active < this.target; active++) this.spawnOne();
  }

  private spawnOne(): void {
    const handle = this.deps.spawn();
    const now = this.deps.clock.now();
    this.workers.set(handle.pid, { handle, spawnedAt: now, lastBeat: now, request: undefined, bootError: undefined, retiring: false });
    this.deps.logger.info({ worker: handle.pid }, "supervisor: worker spawned");
  }

  private retire(worker: WorkerState): void {
    worker.retiring = true;
    worker.handle.send({ laminar: "stop", timeout: this.options.gracefulTimeout });
    const pid = worker.handle.pid;
    // A retiring worker that does not finish in time is killed like any other.
    this.deps.clock.setTimer(this.options.gracefulTimeout, () => this.enqueue({ type: "retire-timeout", pid }));
  }

  private scheduleHeartbeatCheck(): void {
    if (this.options.timeout <= 0) return;
    // Checked several times per timeout, so a silent worker is killed at most a quarter late.
    const every = Math.max(50, Math.min(1000, this.options.timeout / 4));
    this.heartbeatTimer = this.deps.clock.setTimer(every, () => this.enqueue({ type: "timer", name: "heartbeat" }));
  }

  private checkHeartbeats(): void {
    this.heartbeatTimer = undefined;
    if (this.state !== "running") return;
    const now = this.deps.clock.now();
    for (const [pid, worker] of this.workers) {
      const silent = now - worker.lastBeat;
      if (silent <= this.options.timeout || worker.retiring) continue;
      const request = worker.request;
      this.deps.logger.error(
        { worker: pid, silentMs: silent, request },
        `supervisor: worker ${pid} sent no heartbeat for ${(silent / 1000).toFixed(1)} s (event loop blocked?); killing it` +
          (request !== undefined ? `; it last reported serving ${request.method} ${request.path}` : ""),
      );
      // Marked as reported so the next check does not log it again while the kill lands.
      worker.lastBeat = Number.POSITIVE_INFINITY;
      this.deps.kill(pid, "SIGKILL");
    }
    this.scheduleHeartbeatCheck();
  }

  /** Asks every worker to stop and waits for them, bounded by the graceful timeout. */
  private shutdown(exitCode: number): void {
    if (this.state === "stopping" || this.state === "done") return;
    this.state = "stopping";
    this.exitCode = exitCode;
    this.spawnTimer?.cancel();
    this.heartbeatTimer?.cancel();
    if (this.workers.size === 0) return this.finish();
    for (const worker of this.workers.values()) {
      worker.retiring = true;
      worker.handle.send({ laminar: "stop", timeout: this.options.gracefulTimeout });
    }
    this.gracefulTimer = this.deps.clock.setTimer(this.options.gracefulTimeout, () => this.enqueue({ type: "timer", name: "graceful" }));
  }

  private killAll(reason: string): void {
    if (this.workers.size === 0) return;
    this.deps.logger.warn({ pids: this.pids, reason }, "supervisor: killing the remaining workers");
    for (const pid of this.workers.keys()) this.deps.kill(pid, "SIGKILL");
  }

  private finish(): void {
    this.state = "done";
    this.gracefulTimer?.cancel();
    this.deps.logger.info({ exitCode: this.exitCode }, "supervisor: stopped");
    this.resolveExit?.(this.exitCode);
  }
}
