/**
 * {@link Beat}: the periodic task scheduler (Celery beat). It publishes each entry's task when its
 * cron expression or interval comes due.
 *
 * Several schedulers may run (one per machine, for availability); one leads at a time, through the
 * broker lock `"beat"` (`broker.acquireLock`), renewed every third of its ttl while it runs. Followers
 * keep trying to take it, so when the leader stops (or dies and its lock lapses) another takes over.
 * A lock alone does not make "never twice" true: a leader paused past its ttl (a long GC, a laptop
 * lid) still believes it leads when it wakes. So each tick is also claimed: it is published only by
 * the caller for which `broker.claimOnce("beat:<entry>:<tick epoch ms>")` is true.
 *
 * Missed ticks (the process was paused, the leader died and the lock took a while to lapse, or a
 * restart fell across a tick within `catchUpMs`) are caught up once: only the latest missed tick of
 * each entry is published, never a burst (Celery's beat does the same after downtime). Ticks due
 * before a scheduler started, beyond `catchUpMs`, are not its business.
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { ApplyOptions } from "../publish.js";
import type { TaskQueue } from "../task-queue.js";
import { cronSchedule, intervalSchedule, type Schedule } from "./schedule.js";

/** A task a beat entry publishes: its name, or the `Task` itself (published through its own queue and options). */
export type BeatTask =
  | string
  | { readonly name: string; applyAsync(options?: ApplyOptions & { args?: unknown[]; kwargs?: Record<string, unknown> }): Promise<{ readonly id: string }> };

/** One periodic task. Give exactly one of `cron` and `every`. */
export interface BeatEntry {
  /** Unique within the schedule: part of the tick's claim key, so keep it stable across deploys. */
  name: string;
  /** The task to publish. */
  task: BeatTask;
  args?: unknown[];
  kwargs?: Record<string, unknown>;
  /** A cron expression: 5 fields, or 6 with seconds first (`"*\/5 * * * *"`, `"0 0 9 * * 1-5"`, `"@daily"`). */
  cron?: string;
  /** An interval in seconds, on a grid anchored at the epoch (`every: 60` ticks on each minute). */
  every?: number;
  /** IANA timezone of `cron` (default: the Beat's `timezone`, itself UTC by default). */
  timezone?: string;
  /** Publish options (queue, priority, expires: an `expires` of a few seconds keeps late ticks from piling up). */
  options?: Omit<ApplyOptions, "taskId" | "eta" | "countdown">;
}

/** A timer: call the function to cancel it. */
export type CancelTimer = () => void;

/** Options of {@link Beat}. */
export interface BeatOptions {
  schedule: readonly BeatEntry[];
  /** The leader lock's ttl, ms (default 30 000); renewed every third of it. A follower retries as often. */
  lockTtlMs?: number;
  /** Ticks this long before `start()` still count as missed (a restart across a tick), ms. Default: `lockTtlMs`. */
  catchUpMs?: number;
  /** Default timezone of cron entries (default UTC). */
  timezone?: string;
  /** This scheduler's name in the lock (default `host:pid:random`). */
  ownerId?: string;
  /** The clock, epoch ms (tests inject one). */
  now?: () => number;
  /** Arms a timer (tests inject one); the default is `setTimeout`. */
  setTimer?: (callback: () => void, delayMs: number) => CancelTimer;
  /** Errors of a cycle (a broker down, a publish refused): the default logs them to stderr. The scheduler keeps going. */
  onError?: (error: unknown, entry?: string) => void;
  /** Called after each tick is published, with the task id (for logs and tests). */
  onPublish?: (entry: string, tick: number, taskId: string) => void;
}

/** The broker lock the leader holds. */
export const BEAT_LOCK = "beat";

/** An entry compiled: its schedule and where it stands. */
interface Scheduled {
  entry: BeatEntry;
  schedule: Schedule;
  /** Ticks at or before this time are handled (published, claimed by another scheduler, or skipped as a burst). */
  handledUntil: number;
}

/** Longest single timer: re-checks at least this often (clock jumps, a timer clamped by the platform). */
const MAX_SLEEP_MS = 60_000;

/**
 * The periodic scheduler.
 *
 * @example
 * const beat = new Beat(queue, {
 *   schedule: [
 *     { name: "nightly-report", task: buildReport, args: ["daily"], cron: "0 2 * * *", timezone: "Europe/Paris" },
 *     { name: "heartbeat", task: "ops.ping", every: 30, options: { expires: 25 } },
 *   ],
 * });
 * await beat.start();
 * // … on shutdown:
 * await beat.stop();
 */
export class Beat {
  /** This scheduler's name in the lock. */
  readonly ownerId: string;
  private readonly queue: TaskQueue;
  private readonly entries: Scheduled[];
  private readonly lockTtlMs: number;
  private readonly catchUpMs: number;
  private readonly now: () => number;
  private readonly setTimer: (callback: () => void, delayMs: number) => CancelTimer;
  private readonly onError: (error: unknown, entry?: string) => void;
  private readonly onPublish: ((entry: string, tick: number, taskId: string) => void) | undefined;
  private leader = false;
  private running = false;
  private renewAt = 0;
  private cancelTimer: CancelTimer | undefined;
  private cycle: Promise<void> = Promise.resolve();

  /** Compiles the schedule: a bad entry (a cron that does not parse, both or neither of cron/every, a duplicate name) throws here, with its name. */
  constructor(queue: TaskQueue, options: BeatOptions) {
    this.queue = queue;
    this.lockTtlMs = options.lockTtlMs ?? 30_000;
    if (!Number.isFinite(this.lockTtlMs) || this.lockTtlMs < 3) throw new RangeError(`lockTtlMs must be a number of ms >= 3, got ${this.lockTtlMs}`);
    this.catchUpMs = options.catchUpMs ?? this.lockTtlMs;
    if (!Number.isFinite(this.catchUpMs) || this.catchUpMs < 0) throw new RangeError(`catchUpMs must be a number of ms >= 0, got ${this.catchUpMs}`);
    this.now = options.now ?? Date.now;
    this.setTimer = options.setTimer ?? defaultTimer;
    this.onError = options.onError ?? defaultOnError;
    this.onPublish = options.onPublish;
    this.ownerId = options.ownerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    if (!Array.isArray(options.schedule)) throw new TypeError("Beat needs a schedule (an array of entries)");
    const names = new Set<string>();
    this.entries = options.schedule.map((entry) => {
      const schedule = compileEntry(entry, options.timezone ?? "UTC");
      if (names.has(entry.name)) throw new TypeError(`Beat entry "${entry.name}" appears twice`);
      names.add(entry.name);
      return { entry, schedule, handledUntil: 0 };
    });
  }

  /** True while this scheduler holds the lock (as far as it knows). */
  get isLeader(): boolean {
    return this.leader;
  }

  /**
   * Starts scheduling: resolves once the first attempt to lead (and, when it leads, the catch-up of
   * missed ticks) is done. Calling it twice does nothing more.
   */
  async start(): Promise<void> {
    if (this.running) return this.cycle;
    this.running = true;
    const start = this.now();
    for (const scheduled of this.entries) scheduled.handledUntil = start - this.catchUpMs;
    return this.runCycle();
  }

  /** Stops: no more ticks; waits for a cycle in progress, then gives the lock up so a follower takes over at once. */
  async stop(): Promise<void> {
    if (!this.running) return this.cycle;
    this.running = false;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    await this.cycle;
    if (this.leader) {
      this.leader = false;
      try {
        await this.queue.broker.releaseLock(BEAT_LOCK, this.ownerId);
      } catch (error) {
        this.report(error);
      }
    }
  }

  /**
   * When each entry is next due (epoch ms), from what this scheduler has handled; for `inspect`
   * and tests.
   */
  nextDue(): { name: string; schedule: string; next: number | undefined }[] {
    return this.entries.map(({ entry, schedule, handledUntil }) => ({
      name: entry.name,
      schedule: schedule.description,
      next: schedule.next(Math.max(handledUntil, this.now())),
    }));
  }

  /** Resolves when the cycle in progress (if any) is done; for tests driving a fake timer. */
  idle(): Promise<void> {
    return this.cycle;
  }

  private runCycle(): Promise<void> {
    this.cycle = this.cycleOnce().catch((error: unknown) => this.report(error));
    return this.cycle;
  }

  /** Calls `onError`; an `onError` that throws is not allowed to stop the scheduler (nor to reject `idle()`). */
  private report(error: unknown, entry?: string): void {
    try {
      this.onError(error, entry);
    } catch {
      // Nowhere left to report it.
    }
  }

  private async cycleOnce(): Promise<void> {
    if (!this.running) return;
    try {
      await this.leadAndPublish();
    } finally {
      // Armed whatever happened: an unexpected error must not end the schedule silently.
      this.arm(this.now());
    }
  }

  private async leadAndPublish(): Promise<void> {
    let now = this.now();
    if (!this.leader || now >= this.renewAt) {
      let held = false;
      try {
        held = await this.queue.broker.acquireLock(BEAT_LOCK, this.ownerId, this.lockTtlMs);
      } catch (error) {
        // The broker is unreachable: lead nothing until it answers again (the lock may lapse meanwhile).
        this.report(error);
      }
      this.leader = held;
      now = this.now();
      if (held) this.renewAt = now + Math.floor(this.lockTtlMs / 3);
    }
    if (!this.leader) return;
    for (const scheduled of this.entries) {
      if (!this.running) break;
      await this.publishDue(scheduled, now);
    }
  }

  /** Publishes the latest tick of `scheduled` due in (handledUntil, now], if no other scheduler did. */
  private async publishDue(scheduled: Scheduled, now: number): Promise<void> {
    const { entry, schedule } = scheduled;
    const tick = schedule.previous(now);
    if (tick === undefined || tick <= scheduled.handledUntil) return;
    // Older ticks in the window are skipped: one catch-up, not a burst.
    scheduled.handledUntil = tick;
    // The claim must outlive every moment another scheduler could still consider this tick the latest
    // one: until the next tick, plus a lock ttl and a minute for clocks that disagree.
    const next = schedule.next(tick) ?? tick;
    const ttl = next - tick + this.lockTtlMs + 60_000;
    try {
      if (!(await this.queue.broker.claimOnce(`beat:${entry.name}:${tick}`, ttl))) return;
      const taskId = await this.publish(entry);
      this.onPublish?.(entry.name, tick, taskId);
    } catch (error) {
      // Claimed but not published is a lost tick, reported; publishing it again could run it twice.
      this.report(error, entry.name);
    }
  }

  private async publish(entry: BeatEntry): Promise<string> {
    const apply = { ...(entry.options ?? {}), args: [...(entry.args ?? [])], kwargs: { ...(entry.kwargs ?? {}) } };
    const result = typeof entry.task === "string" ? await this.queue.sendTask(entry.task, apply) : await entry.task.applyAsync(apply);
    return result.id;
  }

  /** Sleeps until the next due tick, the next lock renewal, or (as a follower) the next try for the lock. */
  private arm(now: number): void {
    if (!this.running) return;
    let wakeAt = this.leader ? this.renewAt : now + Math.floor(this.lockTtlMs / 3);
    if (this.leader) {
      for (const { schedule, handledUntil } of this.entries) {
        const next = schedule.next(Math.max(handledUntil, now));
        if (next !== undefined && next < wakeAt) wakeAt = next;
      }
    }
    const delay = Math.min(MAX_SLEEP_MS, Math.max(0, wakeAt - this.now()));
    this.cancelTimer = this.setTimer(() => {
      this.cancelTimer = undefined;
      void this.runCycle();
    }, delay);
  }
}

function compileEntry(entry: BeatEntry, timezone: string): Schedule {
  if (typeof entry !== "object" || entry === null) throw new TypeError(`A beat entry must be an object, got ${String(entry)}`);
  const name = entry.name;
  if (typeof name !== "string" || name === "") throw new TypeError("A beat entry needs a name");
  const task = entry.task;
  if (!(typeof task === "string" && task !== "") && !(typeof task === "object" && task !== null && typeof task.name === "string")) {
    throw new TypeError(`Beat entry "${name}": task must be a task name or a Task`);
  }
  if (entry.args !== undefined && !Array.isArray(entry.args)) throw new TypeError(`Beat entry "${name}": args must be an array`);
  if ((entry.cron === undefined) === (entry.every === undefined)) {
    throw new TypeError(`Beat entry "${name}": give exactly one of cron and every`);
  }
  try {
    return entry.cron !== undefined ? cronSchedule(entry.cron, entry.timezone ?? timezone) : intervalSchedule(entry.every!);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const Cls = error instanceof RangeError ? RangeError : TypeError;
    throw new Cls(`Beat entry "${name}": ${message}`);
  }
}

function defaultTimer(callback: () => void, delayMs: number): CancelTimer {
  const timer = setTimeout(callback, delayMs);
  return () => clearTimeout(timer);
}

function defaultOnError(error: unknown, entry?: string): void {
  const where = entry === undefined ? "beat" : `beat entry "${entry}"`;
  console.error(`${where}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
}
