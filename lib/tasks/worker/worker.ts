/**
 * The worker: takes tasks from a broker and runs them (Celery's worker consumer). One loop reserves
 * messages as slots free up; each delivery is checked (expired, revoked, unknown, rate-limited), acked
 * before or after it runs (`acksLate`), run through a {@link TaskPool} with its time limits, and its
 * outcome settled by outcomes.ts (SUCCESS, RETRY, FAILURE, REVOKED stored; what follows it in a
 * workflow published by completion.ts; the message acked, replaced for a retry, or dead-lettered).
 * Three shared intervals do the rest: lease renewal, revocation polling and the heartbeat, so a task
 * costs no timer of its own unless it has a time limit.
 *
 * @module
 */
import { hostname } from "node:os";
import { NotRegistered, TaskArgumentsError, TaskRevokedError } from "../../errors.js";
import { createLogger, type Logger } from "../../logger.js";
import type { Broker, Delivery, WorkerInfo } from "../broker.js";
import { DEFAULT_QUEUE, type TaskMessage } from "../message.js";
import type { RegisteredTask, TaskRegistry } from "../registry.js";
import { AsyncPool } from "./async-pool.js";
import { Completion } from "./completion.js";
import type { ExecutionControl, TaskPool } from "./pool.js";
import type { HeldDelivery } from "./held-delivery.js";
import { Outcomes } from "./outcomes.js";
import { RateLimiter } from "./rate-limiter.js";
import { decideRetry } from "./retry-policy.js";

/** Options of a {@link Worker}. */
export interface WorkerOptions {
  /** Queues to consume (default `[DEFAULT_QUEUE]`). */
  queues?: string[];
  /** Tasks running at once (default 16). */
  concurrency?: number;
  /** How tasks run (default `new AsyncPool(registry)`). The worker owns it: `stop()` closes it. */
  pool?: TaskPool;
  /** Lease length, ms (default 30 000); held leases are extended every third of it. */
  visibilityTimeoutMs?: number;
  /** The worker's name (default `host:pid:n`). */
  id?: string;
  /** Default: the pino logger of `createLogger()`. */
  logger?: Logger;
  /** Store STARTED when a task starts (default true). */
  trackStarted?: boolean;
  /** Period of `broker.heartbeat`, ms (default 2000). */
  heartbeatMs?: number;
  /** How often `broker.revocations()` is polled for revoke-with-terminate, ms (default 1000). */
  revocationPollMs?: number;
  /** After this many finished tasks, `onMaxTasks` is called once (the supervisor then retires the process). */
  maxTasks?: number;
  /** See `maxTasks`. The worker itself goes on consuming until stopped. */
  onMaxTasks?: () => void;
  /** The clock, epoch ms (expiry checks, rate limits, stored times). */
  now?: () => number;
}

/** One task the worker is running, for `running()` and the heartbeat. */
export interface RunningTask {
  id: string;
  task: string;
  startedAt: number;
}

/** How long one reserve() waits for a message (a long poll). */
const RESERVE_WAIT_MS = 1000;
/** Revoked ids remembered (Celery's `REVOKES_MAX`). */
const REVOKED_LIMIT = 50_000;
/** After the graceful timeout, how long aborted executions get to settle before the worker gives up on them. */
const ABORT_SETTLE_MS = 5000;

let workerCount = 0;

/**
 * Consumes `options.queues` and runs their tasks; see the module comment.
 *
 * Delivery guarantees follow the task's `acksLate`: without it the message is acked before the task
 * runs (at-most-once: a worker killed mid-task loses it), with it after the outcome is stored and
 * what follows published (at-least-once: it runs again elsewhere). A final failure of an `acksLate`
 * task dead-letters its message; without `acksLate` it was already acked, so only the stored FAILURE
 * remains (the broker has no way to dead-letter a message nobody holds).
 *
 * @example
 * const worker = new Worker(queue, { concurrency: 32, queues: ["celery", "reports"] });
 * worker.start();
 * process.once("SIGTERM", () => void worker.stop({ gracefulTimeoutMs: 10_000 }));
 */
export class Worker {
  readonly id: string;
  private readonly broker: Broker;
  private readonly pool: TaskPool;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly queues: string[];
  private readonly concurrency: number;
  private readonly visibilityTimeoutMs: number;
  private readonly trackStarted: boolean;
  private readonly heartbeatMs: number;
  private readonly revocationPollMs: number;
  private readonly maxTasks: number | undefined;
  private readonly onMaxTasks: (() => void) | undefined;
  private readonly limiter: RateLimiter;
  private readonly outcomes: Outcomes;
  private readonly held = new Set<HeldDelivery>();
  private readonly revoked = new Set<string>();
  private readonly badRateLimits = new Set<string>();
  private readonly stopController = new AbortController();
  private readonly timers: NodeJS.Timeout[] = [];
  private state: "idle" | "running" | "stopping" | "stopped" = "idle";
  private loop: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private processedCount = 0;
  private maxTasksReported = false;
  private waitingCount = 0;
  private startedAt = 0;
  private lastRevocationSeq = 0;
  private polling = false;
  /** The heartbeat in flight: awaited before `removeWorker`, so a late one cannot bring the worker back. */
  private beating: Promise<void> | undefined;
  /** Resolves the consume loop's wait for a free slot. */
  private wakeLoop: (() => void) | undefined;
  /** Resolve when `held` becomes empty. */
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly registry: TaskRegistry,
    options: WorkerOptions = {},
  ) {
    this.broker = registry.broker;
    this.now = options.now ?? Date.now;
    this.id = options.id ?? `${hostname()}:${process.pid}:${++workerCount}`;
    this.queues = options.queues !== undefined && options.queues.length > 0 ? [...options.queues] : [DEFAULT_QUEUE];
    this.concurrency = positiveInteger(options.concurrency, 16, "concurrency");
    this.visibilityTimeoutMs = positiveInteger(options.visibilityTimeoutMs, 30_000, "visibilityTimeoutMs");
    this.heartbeatMs = positiveInteger(options.heartbeatMs, 2000, "heartbeatMs");
    this.revocationPollMs = positiveInteger(options.revocationPollMs, 1000, "revocationPollMs");
    this.maxTasks = options.maxTasks === undefined ? undefined : positiveInteger(options.maxTasks, 1, "maxTasks");
    this.onMaxTasks = options.onMaxTasks;
    this.trackStarted = options.trackStarted ?? true;
    this.pool = options.pool ?? new AsyncPool(registry);
    this.logger = options.logger ?? createLogger();
    this.limiter = new RateLimiter(this.now);
    this.outcomes = new Outcomes(this.broker, registry.backend, new Completion(registry, this.logger, this.now), this.logger, this.now, this.id);
  }

  /** Tasks finished, whatever their outcome (released ones not counted). */
  get processed(): number {
    return this.processedCount;
  }

  /** The tasks running now. */
  running(): RunningTask[] {
    const out: RunningTask[] = [];
    for (const held of this.held) {
      if (held.running) out.push({ id: held.delivery.message.id, task: held.delivery.message.task, startedAt: held.startedAt });
    }
    return out;
  }

  /** Starts consuming. Idempotent; does nothing once stopped. */
  start(): void {
    if (this.state !== "idle") return;
    this.state = "running";
    this.startedAt = this.now();
    this.timers.push(
      setInterval(() => this.renewLeases(), Math.max(1, Math.floor(this.visibilityTimeoutMs / 3))),
      setInterval(() => void this.pollRevocations(), this.revocationPollMs),
      setInterval(() => void this.heartbeat(), this.heartbeatMs),
    );
    void this.heartbeat();
    void this.pollRevocations();
    this.loop = this.consume();
    this.logger.info({ worker: this.id, queues: this.queues, concurrency: this.concurrency, pool: this.pool.kind }, "worker started");
  }

  /**
   * Graceful shutdown (Celery's warm shutdown): stops reserving; gives back every delivery not yet
   * started (released, due at once, so another worker takes it); waits up to `gracefulTimeoutMs`
   * (default 30 000) for the running tasks; then aborts the ones still running with a
   * TaskRevokedError ("worker shutdown"): an `acksLate` one has its lease released so it runs
   * elsewhere, any other (already acked) is stored REVOKED with that error, since nothing will run it
   * again. Finally forgets the worker in the broker and closes the pool. The broker and the result
   * backend stay open (their owner closes them). Calling it again returns the same promise.
   */
  stop(options: { gracefulTimeoutMs?: number } = {}): Promise<void> {
    this.stopping ??= this.shutdown(Math.max(0, options.gracefulTimeoutMs ?? 30_000));
    return this.stopping;
  }

  private async shutdown(gracefulTimeoutMs: number): Promise<void> {
    const wasRunning = this.state === "running";
    this.state = "stopping";
    this.stopController.abort(new Error("worker stopping"));
    this.wakeLoop?.();
    for (const held of this.held) held.waitAbort?.abort();
    if (wasRunning) {
      await this.loop;
      if (!(await this.idle(gracefulTimeoutMs))) {
        for (const held of this.held) {
          if (held.control !== undefined && !held.control.signal.aborted) {
            held.stopReason = "shutdown";
            held.control.abort(new TaskRevokedError(held.delivery.message.id, "worker shutdown"));
          }
        }
        if (!(await this.idle(ABORT_SETTLE_MS))) {
          this.logger.error({ worker: this.id, tasks: this.running() }, "tasks did not settle after being aborted at shutdown");
        }
      }
    }
    for (const timer of this.timers) clearInterval(timer);
    this.timers.length = 0;
    await this.beating;
    try {
      await this.broker.removeWorker(this.id);
    } catch (error) {
      this.logger.warn({ err: error, worker: this.id }, "could not remove the worker from the broker");
    }
    try {
      await this.pool.close();
    } catch (error) {
      this.logger.warn({ err: error, worker: this.id }, "could not close the task pool");
    }
    this.state = "stopped";
    if (wasRunning) this.logger.info({ worker: this.id, processed: this.processedCount }, "worker stopped");
  }

  // --- consuming --------------------------------------------------------------------------------

  /** Free slots: rate-limited waiters (up to `concurrency` of them) do not take one, so a limited task type cannot starve the others. */
  private capacity(): number {
    return this.concurrency - (this.held.size - Math.min(this.waitingCount, this.concurrency));
  }

  private async consume(): Promise<void> {
    const signal = this.stopController.signal;
    const batch = Math.max(1, Math.ceil(this.concurrency / 4));
    let failures = 0;
    let yielded = false;
    while (!signal.aborted) {
      const free = this.capacity();
      if (free <= 0) {
        await new Promise<void>((resolve) => (this.wakeLoop = resolve));
        this.wakeLoop = undefined;
        continue;
      }
      if (free < batch && !yielded) {
        // Busy: let the completions of this event-loop turn land first, so one reserve takes several
        // messages (one broker round trip, one SQLite transaction, for many tasks). Never waits for
        // more than that turn: slots of a worker running long tasks do not stay idle.
        yielded = true;
        await new Promise<void>((resolve) => setImmediate(resolve));
        continue;
      }
      yielded = false;
      let deliveries: Delivery[];
      try {
        deliveries = await this.broker.reserve({
          queues: this.queues,
          max: free,
          visibilityTimeoutMs: this.visibilityTimeoutMs,
          consumer: this.id,
          waitMs: RESERVE_WAIT_MS,
          signal,
        });
        failures = 0;
      } catch (error) {
        if (signal.aborted) break;
        // A broker that is down (a locked file, a lost connection): back off, up to 30 s, and retry.
        failures++;
        const delayMs = Math.min(30_000, 500 * 2 ** Math.min(failures, 6));
        this.logger.error({ err: error, worker: this.id, retryInMs: delayMs }, "could not reserve tasks");
        await sleep(delayMs, signal);
        continue;
      }
      for (const delivery of deliveries) this.dispatch(delivery);
    }
  }

  private dispatch(delivery: Delivery): void {
    const held: HeldDelivery = { delivery, leased: true, lost: false, waiting: false, running: false, startedAt: 0 };
    this.held.add(held);
    void this.handle(held);
  }

  /** One delivery, from its checks to its settled outcome. Never rejects. */
  private async handle(held: HeldDelivery): Promise<void> {
    const message = held.delivery.message;
    try {
      if (this.state !== "running") return await this.outcomes.giveBack(held);
      const early = this.refusal(message);
      if (early !== undefined) return this.finished(await this.outcomes.revoked(held, early));
      const task = this.registry.lookup(message.task);
      if (task === undefined) return this.finished(await this.outcomes.failed(held, new NotRegistered(message.task)));
      if (!Array.isArray(message.args) || typeof message.kwargs !== "object" || message.kwargs === null || Array.isArray(message.kwargs)) {
        // A message built by hand (or by another client) with the wrong shape fails for good, as a bad argument would.
        return this.finished(await this.outcomes.failed(held, new TaskArgumentsError(message.task, "args must be an array and kwargs an object")));
      }
      if (task.options.rateLimit !== undefined) {
        // Its own controller: the wait ends early when the worker stops or the task is revoked.
        const waitAbort = new AbortController();
        const wait = this.rateLimit(task, waitAbort.signal);
        if (wait !== undefined) {
          held.waiting = true;
          held.waitAbort = waitAbort;
          this.waitingCount++;
          this.wakeLoop?.();
          try {
            await wait;
          } catch {
            // Only rejects when aborted: the checks below say why.
          } finally {
            held.waiting = false;
            held.waitAbort = undefined;
            this.waitingCount--;
          }
          if (this.state !== "running") return await this.outcomes.giveBack(held);
          const late = this.refusal(message);
          if (late !== undefined) return this.finished(await this.outcomes.revoked(held, late));
        }
      }
      const acksLate = task.options.acksLate ?? false;
      if (!acksLate && !(await this.outcomes.ack(held))) {
        // At-most-once: a lease lost before the task started may be running elsewhere already.
        this.logger.warn({ taskId: message.id, task: message.task }, "lease lost before the task started; not running it");
        return;
      }
      await this.run(held, task);
    } catch (error) {
      this.logger.error({ err: error, taskId: message.id, task: message.task }, "task handling failed");
    } finally {
      this.held.delete(held);
      this.wakeLoop?.();
      if (this.held.size === 0 && this.idleWaiters.length > 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  /** Why a message must not run (expired, or revoked since it was reserved), or undefined. */
  private refusal(message: TaskMessage): Error | undefined {
    if (message.expires !== undefined && this.now() > message.expires) return new TaskRevokedError(message.id, "expired");
    if (this.revoked.has(message.id)) return new TaskRevokedError(message.id, "revoked");
    return undefined;
  }

  private rateLimit(task: RegisteredTask, signal: AbortSignal): Promise<void> | undefined {
    try {
      return this.limiter.acquire(task.name, task.options.rateLimit as string | number, signal);
    } catch (error) {
      // A malformed limit runs the task unlimited (logged once) rather than failing every call.
      if (!this.badRateLimits.has(task.name)) {
        this.badRateLimits.add(task.name);
        this.logger.error({ err: error, task: task.name }, "invalid rate limit; the task runs without one");
      }
      return undefined;
    }
  }

  // --- running ---------------------------------------------------------------------

  private async run(held: HeldDelivery, task: RegisteredTask): Promise<void> {
    const message = held.delivery.message;
    const control = new AbortController();
    held.control = control;
    held.running = true;
    held.startedAt = this.now();
    // Not awaited before the task runs (one round trip less per task); awaited before the outcome is
    // stored, and a backend never lets a late STARTED replace a ready state anyway.
    const started = this.trackStarted
      ? this.outcomes.store({ taskId: message.id, state: "STARTED", name: message.task, retries: message.retries, worker: this.id, updatedAt: held.startedAt })
      : undefined;
    let value: unknown;
    let failed = false;
    let error: unknown;
    try {
      value = await this.pool.execute(message, limitsOf(message, task, control.signal));
    } catch (thrown) {
      failed = true;
      error = thrown;
    }
    if (started !== undefined) await started;
    if (!failed) return this.finished(await this.outcomes.succeeded(held, task, value));
    if (held.stopReason === "terminate") return this.finished(await this.outcomes.revoked(held, control.signal.reason as Error));
    if (held.stopReason === "shutdown") {
      if (held.leased) {
        // acksLate: nothing is stored; the message runs again elsewhere.
        await this.outcomes.giveBack(held);
        return;
      }
      return this.finished(await this.outcomes.revoked(held, control.signal.reason as Error));
    }
    const decision = decideRetry({
      error,
      taskName: message.task,
      taskId: message.id,
      retries: message.retries,
      options: task.options,
      now: this.now(),
    });
    if (decision.kind === "fail") return this.finished(await this.outcomes.failed(held, decision.error));
    this.finished(await this.outcomes.retry(held, decision.delayMs, decision.error));
  }

  /** Counts a finished task (takes the settled outcome's void so call sites stay one line). */
  private finished(_settled?: void): void {
    this.processedCount++;
    if (this.maxTasks !== undefined && !this.maxTasksReported && this.processedCount >= this.maxTasks) {
      this.maxTasksReported = true;
      try {
        this.onMaxTasks?.();
      } catch (error) {
        this.logger.error({ err: error, worker: this.id }, "onMaxTasks threw");
      }
    }
  }

  // --- the shared intervals ---------------------------------------------------------------------

  /** Extends every lease still held: reserved, waiting for a rate limit, or running with acksLate. */
  private renewLeases(): void {
    for (const held of this.held) {
      if (!held.leased || held.lost) continue;
      this.broker.extend(held.delivery, this.visibilityTimeoutMs).then(
        (ok) => {
          if (!ok && held.leased && !held.lost) {
            held.lost = true;
            this.logger.warn(
              { taskId: held.delivery.message.id, task: held.delivery.message.task },
              "lease lost (not extended in time); the message may run again elsewhere",
            );
          }
        },
        (error: unknown) => this.logger.error({ err: error, taskId: held.delivery.message.id }, "could not extend the lease"),
      );
    }
  }

  private async pollRevocations(): Promise<void> {
    if (this.polling || !this.active()) return;
    this.polling = true;
    try {
      const revocations = await this.broker.revocations(this.lastRevocationSeq);
      for (const revocation of revocations) {
        if (revocation.seq > this.lastRevocationSeq) this.lastRevocationSeq = revocation.seq;
        this.rememberRevoked(revocation.taskId);
        for (const held of this.held) {
          // One waiting for a rate-limit token stops waiting: it is stored REVOKED at once.
          if (held.waitAbort !== undefined && held.delivery.message.id === revocation.taskId) held.waitAbort.abort();
          // Revoked without terminate, a running task runs on (Celery's behaviour).
          if (!revocation.terminate) continue;
          if (held.running && held.delivery.message.id === revocation.taskId && held.control !== undefined && !held.control.signal.aborted) {
            held.stopReason = "terminate";
            held.control.abort(new TaskRevokedError(revocation.taskId, "terminated"));
          }
        }
      }
    } catch (error) {
      this.logger.warn({ err: error, worker: this.id }, "could not poll revocations");
    } finally {
      this.polling = false;
    }
  }

  private rememberRevoked(taskId: string): void {
    this.revoked.add(taskId);
    // A Set iterates in insertion order: dropping the first entries forgets the oldest revocations.
    if (this.revoked.size > REVOKED_LIMIT) {
      for (const oldest of this.revoked) {
        this.revoked.delete(oldest);
        if (this.revoked.size <= REVOKED_LIMIT) break;
      }
    }
  }

  private heartbeat(): Promise<void> {
    if (this.beating !== undefined || !this.active()) return this.beating ?? Promise.resolve();
    this.beating = this.broker
      .heartbeat(this.info())
      .catch((error: unknown) => this.logger.warn({ err: error, worker: this.id }, "could not send the heartbeat"))
      .finally(() => (this.beating = undefined));
    return this.beating;
  }

  /** Running or finishing its running tasks: revocations (terminate) and heartbeats still matter. */
  private active(): boolean {
    return this.state === "running" || this.state === "stopping";
  }

  private info(): WorkerInfo {
    return {
      id: this.id,
      pid: process.pid,
      hostname: hostname(),
      queues: [...this.queues],
      concurrency: this.concurrency,
      startedAt: this.startedAt,
      seenAt: this.now(),
      processed: this.processedCount,
      running: this.running(),
    };
  }

  /** Resolves true once nothing is held, or false after `timeoutMs`. */
  private idle(timeoutMs: number): Promise<boolean> {
    if (this.held.size === 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        const index = this.idleWaiters.indexOf(done);
        if (index >= 0) this.idleWaiters.splice(index, 1);
        resolve(false);
      }, timeoutMs);
      this.idleWaiters.push(done);
    });
  }
}

/** The execution's limits: the message's `timeLimit` ([hard, soft] seconds) overrides the task's; null or absent falls back (Celery's `timelimit` header). */
function limitsOf(message: TaskMessage, task: RegisteredTask, signal: AbortSignal): ExecutionControl {
  const [hard, soft] = Array.isArray(message.timeLimit) ? message.timeLimit : [null, null];
  const control: ExecutionControl = { signal };
  const hardMs = toMs(hard ?? task.options.timeLimit);
  const softMs = toMs(soft ?? task.options.softTimeLimit);
  if (hardMs !== undefined) control.hardTimeLimitMs = hardMs;
  if (softMs !== undefined) control.softTimeLimitMs = softMs;
  return control;
}

/** Seconds to ms; a missing, non-finite or non-positive limit is no limit. */
function toMs(seconds: number | null | undefined): number | undefined {
  return typeof seconds === "number" && Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
}

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`Worker option ${name} must be a positive integer, got ${String(value)}`);
  return value;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
