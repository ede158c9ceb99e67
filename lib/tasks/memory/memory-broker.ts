/**
 * The in-process broker: for tests and single-process apps. Everything lives in maps; a `reserve`
 * that waits is woken at once by a publish (or a release) to one of its queues, or by a timer set for
 * the moment the next delayed message becomes due, so nothing polls.
 *
 * Messages are kept as JSON text, as every other broker keeps them: a publisher that mutates its
 * message object afterwards changes nothing, and a message that would not survive a real broker
 * (a function, a BigInt) fails here too, at publish.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { BrokerUnavailable } from "../../errors.js";
import type {
  Broker,
  DeadLetter,
  Delivery,
  QueueStats,
  ReleaseOptions,
  ReserveOptions,
  Revocation,
  WorkerInfo,
} from "../broker.js";
import { DEFAULT_MAX_REVOCATIONS } from "../broker.js";
import type { TaskMessage } from "../message.js";
import { clampPriority, TopN } from "../broker-support/delivery-order.js";
import { decodeMessage as decode, dueAt, encodeMessage as encode } from "../broker-support/message-codec.js";

/** Options of {@link MemoryBroker}. */
export interface MemoryBrokerOptions {
  /** The clock (epoch ms); tests pass a fake one to move ETAs and leases forward without sleeping. */
  now?: () => number;
  /** Revocations remembered, oldest forgotten first; default {@link DEFAULT_MAX_REVOCATIONS}. */
  maxRevocations?: number;
}

/** One stored message. `availableAt` is its due time, or the end of its lease while leased. */
interface Entry {
  seq: number;
  id: string;
  queue: string;
  priority: number;
  availableAt: number;
  leaseId: string | undefined;
  deliveries: number;
  body: string;
}

/** A `reserve` waiting for a message. */
interface Waiter {
  queues: ReadonlySet<string>;
  wake: () => void;
}

/**
 * The in-process {@link Broker}.
 *
 * A lease token stays valid until someone else reserves the message: a worker whose lease lapsed
 * while nobody took the message can still ack it, which saves a duplicate run (SQS receipt handles
 * behave the same way). Once another `reserve` took it, the old token acks, extends and releases
 * nothing.
 *
 * @example
 * const broker = new MemoryBroker();
 * await broker.publish(message);
 * const [delivery] = await broker.reserve({ queues: ["celery"], max: 1, visibilityTimeoutMs: 30_000, consumer: "w1" });
 */
export class MemoryBroker implements Broker {
  private readonly now: () => number;
  private readonly queues = new Map<string, Map<number, Entry>>();
  private readonly leases = new Map<string, Entry>();
  private readonly revoked = new Map<string, Revocation>();
  private readonly revocationLog: Revocation[] = [];
  private readonly dead: { queue: string; letter: DeadLetter }[] = [];
  private readonly workerInfo = new Map<string, WorkerInfo>();
  private readonly locks = new Map<string, { owner: string; until: number }>();
  private readonly claims = new Map<string, number>();
  private readonly waiters = new Set<Waiter>();
  private seq = 0;
  private leaseCounter = 0;
  /** Makes lease tokens unguessable: a made-up or mistyped token must not ack someone else's message. */
  private readonly leaseNonce = randomBytes(6).toString("base64url");
  private revocationSeq = 0;
  private closed = false;

  private readonly maxRevocations: number;

  constructor(options: MemoryBrokerOptions = {}) {
    this.now = options.now ?? Date.now;
    this.maxRevocations = options.maxRevocations ?? DEFAULT_MAX_REVOCATIONS;
  }

  async publish(message: TaskMessage): Promise<void> {
    this.insert(message);
  }

  async publishMany(messages: readonly TaskMessage[]): Promise<void> {
    // Serialize everything first, so one bad message publishes none (the SQLite broker's transaction does the same).
    const bodies = messages.map((message) => encode(message));
    this.checkOpen();
    messages.forEach((message, i) => this.insertEncoded(message, bodies[i]!));
  }

  async reserve(options: ReserveOptions): Promise<Delivery[]> {
    if (!(options.max >= 1) || options.queues.length === 0) return [];
    const waitMs = Math.max(0, options.waitMs ?? 0);
    const deadline = performance.now() + waitMs;
    const queues = new Set(options.queues);
    for (;;) {
      if (this.closed || options.signal?.aborted) return [];
      const { deliveries, nextDue } = this.take(queues, options);
      if (deliveries.length > 0) return deliveries;
      const remaining = deadline - performance.now();
      if (remaining <= 0) return [];
      const untilDue = nextDue === undefined ? Infinity : Math.max(1, nextDue - this.now());
      await this.sleep(queues, Math.min(remaining, untilDue), options.signal);
    }
  }

  async extend(delivery: Delivery, visibilityTimeoutMs: number): Promise<boolean> {
    const entry = this.held(delivery);
    if (!entry) return false;
    entry.availableAt = this.now() + Math.max(0, visibilityTimeoutMs);
    return true;
  }

  async ack(delivery: Delivery): Promise<boolean> {
    const entry = this.held(delivery);
    if (!entry) return false;
    this.remove(entry);
    return true;
  }

  async release(delivery: Delivery, options: ReleaseOptions = {}): Promise<boolean> {
    const entry = this.held(delivery);
    if (!entry) return false;
    const replacement = options.message;
    const body = replacement ? encode(replacement) : entry.body;
    this.leases.delete(entry.leaseId!);
    entry.leaseId = undefined;
    entry.availableAt = this.now() + Math.max(0, options.delayMs ?? 0);
    if (replacement) {
      // A replacement is a new message (a retry): its deliveries count from zero again.
      this.queueOf(entry.queue).delete(entry.seq);
      if (this.revoked.has(replacement.id)) return true;
      entry.id = replacement.id;
      entry.queue = replacement.queue;
      entry.priority = clampPriority(replacement.priority);
      entry.body = body;
      entry.deliveries = 0;
      this.queueOf(entry.queue).set(entry.seq, entry);
    }
    this.wakeQueue(entry.queue);
    return true;
  }

  async deadLetter(delivery: Delivery, reason: string): Promise<boolean> {
    const entry = this.held(delivery);
    if (!entry) return false;
    this.remove(entry);
    this.dead.push({ queue: entry.queue, letter: { message: decode(entry.body), reason: String(reason), at: this.now() } });
    return true;
  }

  async deadLetters(limit: number): Promise<DeadLetter[]> {
    const out: DeadLetter[] = [];
    for (let i = this.dead.length - 1; i >= 0 && out.length < limit; i--) {
      const { letter } = this.dead[i]!;
      out.push({ message: structuredClone(letter.message), reason: letter.reason, at: letter.at });
    }
    return out;
  }

  async revoke(taskId: string, options: { terminate?: boolean } = {}): Promise<void> {
    this.checkOpen();
    const revocation: Revocation = { seq: ++this.revocationSeq, taskId, terminate: options.terminate === true };
    this.revoked.set(taskId, revocation);
    this.revocationLog.push(revocation);
    while (this.revocationLog.length > this.maxRevocations) {
      const oldest = this.revocationLog.shift()!;
      // An id revoked again since is still revoked: only its newest revocation counts.
      if (this.revoked.get(oldest.taskId) === oldest) this.revoked.delete(oldest.taskId);
    }
    const now = this.now();
    for (const queue of this.queues.values()) {
      for (const entry of queue.values()) {
        // A message leased now stays until its worker acks it (the worker sees the revocation and
        // records REVOKED); if that lease lapses, `reserve` drops it instead of delivering it.
        if (entry.id === taskId && (entry.leaseId === undefined || entry.availableAt <= now)) this.remove(entry);
      }
    }
  }

  async isRevoked(taskId: string): Promise<boolean> {
    return this.revoked.has(taskId);
  }

  async revocations(afterSeq: number): Promise<Revocation[]> {
    return this.revocationLog.filter((r) => r.seq > afterSeq).map((r) => ({ ...r }));
  }

  async stats(): Promise<QueueStats[]> {
    const now = this.now();
    const byQueue = new Map<string, QueueStats>();
    const row = (queue: string): QueueStats => {
      let stats = byQueue.get(queue);
      if (!stats) byQueue.set(queue, (stats = { queue, ready: 0, delayed: 0, leased: 0, dead: 0 }));
      return stats;
    };
    for (const [name, queue] of this.queues) {
      const stats = row(name);
      for (const entry of queue.values()) {
        if (entry.availableAt <= now) stats.ready++;
        else if (entry.leaseId !== undefined) stats.leased++;
        else stats.delayed++;
      }
    }
    for (const { queue } of this.dead) row(queue).dead++;
    return [...byQueue.values()].sort((a, b) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : 0));
  }

  async heartbeat(info: WorkerInfo): Promise<void> {
    this.checkOpen();
    this.workerInfo.set(info.id, structuredClone(info));
  }

  async workers(withinMs: number): Promise<WorkerInfo[]> {
    const since = this.now() - withinMs;
    return [...this.workerInfo.values()].filter((w) => w.seenAt >= since).map((w) => structuredClone(w));
  }

  async removeWorker(id: string): Promise<void> {
    this.workerInfo.delete(id);
  }

  async acquireLock(name: string, owner: string, ttlMs: number): Promise<boolean> {
    this.checkOpen();
    const now = this.now();
    const lock = this.locks.get(name);
    if (lock && lock.owner !== owner && lock.until > now) return false;
    this.locks.set(name, { owner, until: now + ttlMs });
    return true;
  }

  async releaseLock(name: string, owner: string): Promise<void> {
    if (this.locks.get(name)?.owner === owner) this.locks.delete(name);
  }

  async claimOnce(key: string, ttlMs: number): Promise<boolean> {
    this.checkOpen();
    const now = this.now();
    const until = this.claims.get(key);
    if (until !== undefined && until > now) return false;
    // Expired claims are swept here so a long-running beat does not grow the map for ever.
    for (const [k, u] of this.claims) if (u <= now) this.claims.delete(k);
    this.claims.set(key, now + ttlMs);
    return true;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of [...this.waiters]) waiter.wake();
  }

  // --- internals -------------------------------------------------------------------------------

  private checkOpen(): void {
    if (this.closed) throw new BrokerUnavailable("memory://", "it was closed");
  }

  private insert(message: TaskMessage): void {
    const body = encode(message);
    this.checkOpen();
    this.insertEncoded(message, body);
  }

  private insertEncoded(message: TaskMessage, body: string): void {
    // A publish of a revoked id is dropped: Celery keeps revoked ids so a late publish cannot run either.
    if (this.revoked.has(message.id)) return;
    const now = this.now();
    const entry: Entry = {
      seq: ++this.seq,
      id: message.id,
      queue: message.queue,
      priority: clampPriority(message.priority),
      availableAt: dueAt(message, now),
      leaseId: undefined,
      deliveries: 0,
      body,
    };
    this.queueOf(entry.queue).set(entry.seq, entry);
    this.wakeQueue(entry.queue);
  }

  private queueOf(name: string): Map<number, Entry> {
    let queue = this.queues.get(name);
    if (!queue) this.queues.set(name, (queue = new Map()));
    return queue;
  }

  private remove(entry: Entry): void {
    this.queues.get(entry.queue)?.delete(entry.seq);
    if (entry.leaseId !== undefined) this.leases.delete(entry.leaseId);
  }

  /** The entry when `delivery`'s lease token is still the current one. */
  private held(delivery: Delivery): Entry | undefined {
    if (this.closed) return undefined;
    const entry = this.leases.get(delivery.leaseId);
    return entry && entry.leaseId === delivery.leaseId ? entry : undefined;
  }

  /** Leases the due messages (synchronously: nothing else can take them in between). */
  private take(queues: ReadonlySet<string>, options: ReserveOptions): { deliveries: Delivery[]; nextDue: number | undefined } {
    const now = this.now();
    const top = new TopN<Entry>(Math.max(0, Math.trunc(options.max)));
    let nextDue: number | undefined;
    for (const name of queues) {
      const queue = this.queues.get(name);
      if (!queue) continue;
      for (const entry of queue.values()) {
        if (entry.availableAt > now) {
          if (nextDue === undefined || entry.availableAt < nextDue) nextDue = entry.availableAt;
        } else if (this.revoked.has(entry.id)) {
          this.remove(entry);
        } else {
          top.offer(entry);
        }
      }
    }
    const until = now + Math.max(0, options.visibilityTimeoutMs);
    const deliveries = top.items.map((entry): Delivery => {
      if (entry.leaseId !== undefined) this.leases.delete(entry.leaseId);
      entry.leaseId = `${entry.seq}.${this.leaseNonce}.${++this.leaseCounter}`;
      entry.availableAt = until;
      entry.deliveries++;
      this.leases.set(entry.leaseId, entry);
      return { message: decode(entry.body), leaseId: entry.leaseId, deliveries: entry.deliveries };
    });
    return { deliveries, nextDue };
  }

  /** Waits until `ms` pass, a message arrives on one of `queues`, the signal aborts or the broker closes. */
  private sleep(queues: ReadonlySet<string>, ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        this.waiters.delete(waiter);
        resolve();
      };
      const waiter: Waiter = { queues, wake: done };
      const timer = setTimeout(done, Math.min(ms, 2 ** 31 - 1));
      signal?.addEventListener("abort", done);
      this.waiters.add(waiter);
    });
  }

  private wakeQueue(queue: string): void {
    for (const waiter of [...this.waiters]) if (waiter.queues.has(queue)) waiter.wake();
  }
}
