/**
 * The arbiter: the supervisor's decisions, Gunicorn's `arbiter.py` in one class. It keeps N workers
 * alive, replaces the dead (with backoff when they die at boot), halts on a boot error instead of a
 * restart loop, kills workers whose heartbeat stops, replaces workers without downtime (SIGHUP,
 * `--reload`, `--max-requests`), and shuts down gracefully.
 *
 * Replacement is rolling: a worker to be replaced is marked *outgoing* and keeps serving; a fresh
 * worker is spawned in its place, and an outgoing worker is asked to stop only once enough fresh
 * ones report that they are listening, so the number of workers accepting connections never drops
 * below the target. Should a fresh worker fail to boot while outgoing ones still serve (a broken
 * deploy, a syntax error under `--reload`), the replacement is abandoned and the running workers
 * are kept, instead of halting a service that works.
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
  /**
   * The silence allowed to a worker that has not reported listening yet, when longer than
   * `timeout`: importing a large app blocks the loop for seconds, and a short `timeout` must not
   * kill every worker at boot, forever. Default 30000.
   */
  bootTimeout?: number;
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
  /** Replace every worker, rolling (SIGHUP does the same; `--reload` sends this with the changed files). */
  | { type: "reload"; reason: string }
  /** A worker asked to retire (SIGTTOU) had its graceful timeout run out. */
  | { type: "retire-timeout"; pid: number };

/** What the arbiter knows of one worker. */
interface WorkerState {
  handle: WorkerHandle;
  spawnedAt: number;
  lastBeat: number;
  request: ReportedRequest | undefined;
  bootError: string | undefined;
  /** Asked to stop (TTOU, shutdown, or replaced): its exit is not replaced. */
  retiring: boolean;
  /** To be replaced (reload, max requests): it serves until a fresh worker listens in its place. */
  outgoing: boolean;
  /** Has reported that it is listening (app loaded, lifespan started). */
  listening: boolean;
  /** Requests served, as of its last heartbeat. */
  requests: number;
  /** Resident memory in bytes, as of its last heartbeat. */
  rss: number | undefined;
  /** Kills it if it is still there when its graceful timeout runs out (set when it is asked to stop). */
  retireTimer: Timer | undefined;
}

/** One worker in {@link SupervisorStatus}. */
export interface WorkerStatus {
  pid: number;
  /** booting: spawned, not yet listening; serving; outgoing: serving until its replacement listens; stopping. */
  state: "booting" | "serving" | "outgoing" | "stopping";
  uptimeMs: number;
  requests: number;
  /** Resident memory in bytes; undefined before its first heartbeat. */
  rss: number | undefined;
  /** The oldest request it reported in flight. */
  request: ReportedRequest | undefined;
}

/** What `laminar status` shows: the arbiter's view of its workers. */
export interface SupervisorStatus {
  state: "idle" | "running" | "stopping" | "done";
  /** Workers the arbiter keeps. */
  target: number;
  /** Workers replaced because they died (not those replaced on purpose). */
  restarts: number;
  /** Rolling replacements started (SIGHUP, --reload). */
  reloads: number;
  workers: WorkerStatus[];
}

/** Exit code after a second SIGINT cut the graceful shutdown short: 128 + SIGINT, as a shell reports it. */
export const EXIT_SECOND_SIGINT = 130;

/** The signals the arbiter acts on; `master.ts` installs handlers for exactly these. */
export const HANDLED_SIGNALS: readonly NodeJS.Signals[] = ["SIGTERM", "SIGINT", "SIGQUIT", "SIGHUP", "SIGTTIN", "SIGTTOU"];

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
  private restarts = 0;
  private reloads = 0;
  private spawnTimer: Timer | undefined;
  private heartbeatTimer: Timer | undefined;
  private gracefulTimer: Timer | undefined;
  private resolveExit: ((code: number) => void) | undefined;
  private readonly exited: Promise<number>;

  constructor(options: ArbiterOptions, deps: ArbiterDeps) {
    this.options = { quickDeath: 1000, backoffInitial: 100, backoffMax: 5000, bootTimeout: 30_000, ...options };
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

  /** A snapshot of the supervisor and its workers, oldest worker first. */
  status(): SupervisorStatus {
    const now = this.deps.clock.now();
    const workers = [...this.workers.values()]
      .sort((a, b) => a.spawnedAt - b.spawnedAt)
      .map((w): WorkerStatus => ({
        pid: w.handle.pid,
        state: w.retiring ? "stopping" : w.outgoing ? "outgoing" : w.listening ? "serving" : "booting",
        uptimeMs: now - w.spawnedAt,
        requests: w.requests,
        rss: w.rss,
        request: w.request,
      }));
    return { state: this.state, target: this.target, restarts: this.restarts, reloads: this.reloads, workers };
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
      case "reload":
        return this.reload(event.reason);
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
      case "SIGHUP":
        return this.reload("SIGHUP");
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
        if (message.requests !== undefined) worker.requests = message.requests;
        if (message.rss !== undefined) worker.rss = message.rss;
        return;
      case "listening":
        worker.lastBeat = this.deps.clock.now();
        worker.listening = true;
        this.deps.logger.info({ worker: pid, url: message.url }, "supervisor: worker listening");
        // A fresh worker is up: an outgoing one may now stop.
        return this.manageWorkers();
      case "boot-error":
        worker.bootError = message.message;
        return;
      case "retire":
        worker.requests = message.requests;
        if (worker.retiring || worker.outgoing || this.state !== "running") return;
        worker.outgoing = true;
        this.deps.logger.info({ worker: pid, requests: message.requests }, "supervisor: worker reached --max-requests; replacing it");
        return this.manageWorkers();
    }
  }

  private onExit(pid: number, code: number | null, signal: NodeJS.Signals | null): void {
    const worker = this.workers.get(pid);
    if (worker === undefined) return;
    this.workers.delete(pid);
    // A pending timer would keep the master's event loop alive for nothing.
    worker.retireTimer?.cancel();
    const now = this.deps.clock.now();
    const logger = this.deps.logger;
    if (this.state === "stopping") {
      logger.info({ worker: pid, code, signal }, "supervisor: worker stopped");
      if (this.workers.size === 0) this.finish();
      return;
    }
    if (worker.retiring) {
      // Asked to stop: whatever its code (it may have been stopped while still booting), it is not replaced.
      logger.info({ worker: pid, code, signal }, "supervisor: retired worker exited");
      return this.manageWorkers();
    }
    if (code === EXIT_APP_LOAD_ERROR || code === EXIT_WORKER_BOOT_ERROR) return this.onBootError(worker, code);
    this.restarts += 1;
    const lived = now - worker.spawnedAt;
    if (lived < this.options.quickDeath) {
      this.backoff = this.backoff === 0 ? this.options.backoffInitial : Math.min(this.backoff * 2, this.options.backoffMax);
    } else {
      this.backoff = 0;
    }
    logger.warn({ worker: pid, code, signal, livedMs: lived, backoffMs: this.backoff }, "supervisor: worker died; replacing it");
    this.manageWorkers();
  }

  /**
   * A worker exited with a boot-error code. Replacing it would fail the same way, forever: halt with
   * its reason — unless outgoing workers still serve (a rolling replacement was under way): then
   * the replacement is abandoned and the running workers are kept.
   */
  private onBootError(worker: WorkerState, code: number): void {
    const logger = this.deps.logger;
    const what = code === EXIT_APP_LOAD_ERROR ? "could not load the app" : "could not start (lifespan startup or listen failed)";
    const reason = worker.bootError !== undefined ? `: ${worker.bootError}` : "";
    const serving = [...this.workers.values()].filter((w) => !w.retiring && w.listening);
    if (serving.some((w) => w.outgoing)) {
      logger.error(
        { worker: worker.handle.pid, code, error: worker.bootError, kept: serving.map((w) => w.handle.pid) },
        `supervisor: a new worker ${what}; replacement abandoned, the running workers are kept${reason}`,
      );
      for (const other of this.workers.values()) {
        if (other.retiring) continue;
        // The other fresh workers would most likely fail the same way: stop those still booting.
        if (!other.listening) this.retire(other);
        else other.outgoing = false;
      }
      this.backoff = 0;
      return this.manageWorkers();
    }
    logger.error({ worker: worker.handle.pid, code, error: worker.bootError }, `supervisor: worker ${what}; halting${reason}`);
    this.shutdown(code);
  }

  /** Starts a rolling replacement of every worker. */
  private reload(reason: string): void {
    if (this.state !== "running") return;
    this.reloads += 1;
    let marked = 0;
    for (const worker of this.workers.values()) {
      if (worker.retiring) continue;
      worker.outgoing = true;
      marked++;
    }
    this.deps.logger.info({ reason, replacing: marked, workers: this.target }, "supervisor: reloading: fresh workers first, then the old ones stop");
    // A reload is a fresh start: a backoff left from earlier deaths would only delay it.
    this.backoff = 0;
    this.spawnTimer?.cancel();
    this.spawnTimer = undefined;
    this.manageWorkers();
  }

  /**
   * Brings the workers to the target: spawns what is missing (after the backoff, if any), retires
   * surplus workers (the oldest first, as Gunicorn's), and stops outgoing workers as soon as enough
   * fresh ones listen to keep `target` workers serving.
   */
  private manageWorkers(): void {
    if (this.state !== "running") return;
    const byAge = [...this.workers.values()].filter((w) => !w.retiring).sort((a, b) => a.spawnedAt - b.spawnedAt);
    const fresh = byAge.filter((w) => !w.outgoing);
    const outgoing = byAge.filter((w) => w.outgoing);
    // An outgoing worker that never started listening serves nobody: it stops at once.
    for (const worker of outgoing) if (!worker.listening) this.retire(worker);
    const outgoingServing = outgoing.filter((w) => w.listening);

    if (fresh.length < this.target) {
      if (this.spawnTimer === undefined) {
        if (this.backoff > 0) {
          this.spawnTimer = this.deps.clock.setTimer(this.backoff, () => this.enqueue({ type: "timer", name: "spawn" }));
        } else {
          this.spawnMissing();
        }
      }
    } else if (fresh.length > this.target) {
      for (const worker of fresh.slice(0, fresh.length - this.target)) this.retire(worker);
    }

    const freshListening = Math.min(this.target, fresh.filter((w) => w.listening).length);
    const surplus = outgoingServing.length + freshListening - this.target;
    for (const worker of outgoingServing.slice(0, Math.max(0, surplus))) this.retire(worker);
    if (outgoing.length > 0 && surplus >= outgoingServing.length) {
      this.deps.logger.info({ workers: this.pids }, "supervisor: replacement complete; the old workers are stopping");
    }
  }

  private spawnMissing(): void {
    if (this.state !== "running") return;
    let fresh = 0;
    for (const worker of this.workers.values()) if (!worker.retiring && !worker.outgoing) fresh++;
    for (; fresh < this.target; fresh++) this.spawnOne();
  }

  private spawnOne(): void {
    const handle = this.deps.spawn();
    const now = this.deps.clock.now();
    this.workers.set(handle.pid, {
      handle,
      spawnedAt: now,
      lastBeat: now,
      request: undefined,
      bootError: undefined,
      retiring: false,
      outgoing: false,
      listening: false,
      requests: 0,
      rss: undefined,
      retireTimer: undefined,
    });
    this.deps.logger.info({ worker: handle.pid }, "supervisor: worker spawned");
  }

  private retire(worker: WorkerState): void {
    worker.retiring = true;
    worker.handle.send({ laminar: "stop", timeout: this.options.gracefulTimeout });
    const pid = worker.handle.pid;
    // A retiring worker that does not finish in time is killed like any other.
    worker.retireTimer = this.deps.clock.setTimer(this.options.gracefulTimeout, () => this.enqueue({ type: "retire-timeout", pid }));
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
      const allowed = worker.listening ? this.options.timeout : Math.max(this.options.timeout, this.options.bootTimeout);
      if (silent <= allowed || worker.retiring) continue;
      const request = worker.request;
      this.deps.logger.error(
        { worker: pid, silentMs: silent, request },
        `supervisor: worker ${pid} sent no heartbeat for ${(silent / 1000).toFixed(1)} s (event loop blocked${worker.listening ? "" : " while booting"}?); killing it` +
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
