/**
 * The Redis broker (ioredis), in kombu's Redis transport format, so laminar and Python Celery
 * workers can share one Redis: the same queue lists and envelope (`kombu-envelope.ts`), the same
 * `unacked` hash and `unacked_index` sorted set for leases (a Python worker restores a lapsed laminar
 * lease and the other way round), Celery protocol 2 messages (`../celery/protocol-v2.ts`).
 *
 * laminar's additions live in `laminar.*` keys a Python worker never reads (`broker-scripts.ts`):
 * delayed messages (ETA, countdown, retry backoff) wait in a sorted set scored by their due time and
 * are moved to their list by whichever client publishes or reserves after they are due, so no worker
 * holds an ETA task in memory (kombu#337, celery#2599 cannot happen). A Python producer's ETA task
 * that a laminar worker takes is moved there too.
 *
 * Leases: a lease id is the `unacked` hash field (a new random tag per reservation, so a lapsed
 * lease's token cannot ack the message's next delivery); `extend` moves its `unacked_index` score,
 * `ack` removes both, `release` puts the envelope back (next in line) or into the delayed set. As in
 * kombu, a message popped by BRPOP is recorded as unacked just after (a worker killed between the two
 * loses it); the non-blocking path pops and records in one script.
 *
 * Reconnection (celery#8030, "stops consuming after a Redis reconnect"): each wait is a fresh BRPOP of
 * at most one second on a blocking connection of its own; a connection that fails or does not answer
 * in time is thrown away and the next reserve opens another, so nothing stays blocked on a dead socket.
 *
 * Revocations are kept in Redis (`laminar.revoked`) and broadcast as Celery's `revoke` command on
 * the `celery.pidbox` channel (`pidbox.ts`), so Python workers drop or stop the task too; a revoke
 * Python broadcasts is recorded by every laminar broker that polled `revocations` (once: the script
 * skips an id already revoked).
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { BrokerUnavailable } from "../../errors.js";
import type { Broker, DeadLetter, Delivery, QueueStats, ReleaseOptions, ReserveOptions, Revocation, WorkerInfo } from "../broker.js";
import { DEFAULT_MAX_REVOCATIONS } from "../broker.js";
import { encodeMessage } from "../broker-support/message-codec.js";
import type { TaskMessage } from "../message.js";
import { ACK, ACQUIRE_LOCK, CLAIM, DEAD_LETTER, DEFER, EXTEND, PUBLISH, RELEASE, RELEASE_LOCK, RESERVE, REVOKE, STATS } from "./broker-scripts.js";
import { fromEnvelope, listNames, toEnvelope } from "./kombu-envelope.js";
import { decodePidboxRevoke, encodePidboxRevoke, pidboxChannel } from "./pidbox.js";

/** Options of {@link RedisBroker}. */
export interface RedisBrokerOptions {
  /** `redis://[:password@]host[:port][/db]`; default `redis://127.0.0.1:6379/0`. Ignored when `redis` is given. */
  url?: string;
  /** A connection to use instead (left open by `close`); blocking waits use duplicates of it. */
  redis?: Redis;
  /** Prefixed to every key (kombu's `global_keyprefix` transport option). Default none, as kombu's. */
  prefix?: string;
  /** The clock (epoch ms) for due times and leases; tests pass a fake one. */
  now?: () => number;
  /**
   * Where a laminar publisher puts a message with an ETA (a countdown, a retry's backoff):
   * - `false` (default): in laminar's delayed set, moved to the queue when due by the next laminar
   *   client that publishes or reserves. A queue consumed only by Python workers never gets it.
   * - `true`: on the queue at once, as Celery does; a Python worker holds it in memory until its `eta`
   *   header (Celery's way, with its duplicate-on-visibility-timeout risk), a laminar worker that takes
   *   it moves it to the delayed set. Use it when Python workers consume what laminar publishes.
   */
  etaOnQueue?: boolean;
  /** Broadcast revokes to Python workers and listen for theirs (Celery's `celery.pidbox`); default true. */
  pidbox?: boolean;
  /**
   * The `visibility_timeout` the Python workers sharing this Redis use (kombu's default: one hour),
   * so the `unacked_index` scores mean the same to both (see `broker-scripts.ts`).
   */
  kombuVisibilityTimeoutMs?: number;
  /** Revocations remembered, oldest forgotten first; default {@link DEFAULT_MAX_REVOCATIONS}. */
  maxRevocations?: number;
}

/** The longest one BRPOP blocks: a reserve re-checks lapsed leases and due ETAs at least this often. */
const MAX_BLOCK_MS = 1000;
/** How long past its own timeout a BRPOP may take before its connection is given up as dead. */
const BLOCK_GRACE_MS = 2000;
/** Where envelopes that are not protocol 2 JSON task messages are set aside, whole. */
const UNDECODABLE_LIST = "laminar.undecodable";

/**
 * The Redis {@link Broker}.
 *
 * @example
 * const broker = new RedisBroker({ url: "redis://127.0.0.1:6379/0" });
 * await broker.publish(message);  // a Python Celery worker on queue "celery" can run it
 */
export class RedisBroker implements Broker {
  private readonly redis: Redis;
  private readonly owned: boolean;
  private readonly prefix: string;
  private readonly now: () => number;
  private readonly kombuVtMs: number;
  private readonly idle: Redis[] = [];
  private readonly blocking = new Set<Redis>();
  private closed = false;
  private readonly pidbox: boolean;
  private readonly etaOnQueue: boolean;
  private readonly maxRevocations: number;
  private pidboxListener: Redis | undefined;

  constructor(options: RedisBrokerOptions = {}) {
    this.owned = options.redis === undefined;
    this.redis = options.redis ?? new Redis(options.url ?? "redis://127.0.0.1:6379/0", { lazyConnect: false });
    // An unhandled 'error' event would crash the process; ioredis reconnects by itself.
    if (this.owned) this.redis.on("error", () => undefined);
    this.prefix = options.prefix ?? "";
    this.now = options.now ?? Date.now;
    this.kombuVtMs = options.kombuVisibilityTimeoutMs ?? 3_600_000;
    this.pidbox = options.pidbox ?? true;
    this.etaOnQueue = options.etaOnQueue === true;
    this.maxRevocations = options.maxRevocations ?? DEFAULT_MAX_REVOCATIONS;
  }

  async publish(message: TaskMessage): Promise<void> {
    await this.publishMany([message]);
  }

  async publishMany(messages: readonly TaskMessage[]): Promise<void> {
    // Every message is checked (and encoded) before anything is sent, so one bad message publishes none.
    for (const message of messages) encodeMessage(message);
    this.checkOpen();
    if (messages.length === 0) return;
    const args: (string | number)[] = [this.prefix, this.now(), messages.length];
    for (const message of messages) {
      const { envelope, list } = toEnvelope(message);
      const due = !this.etaOnQueue && typeof message.eta === "number" && Number.isFinite(message.eta) ? String(Math.trunc(message.eta)) : "";
      args.push(message.id, message.queue, list, due, envelope, randomUUID());
    }
    await PUBLISH.run(this.redis, args);
  }

  async reserve(options: ReserveOptions): Promise<Delivery[]> {
    try {
      return await this.reserveLoop(options);
    } catch (error) {
      // A close (or abort) in the middle of a script call ends the wait, as the contract says; other errors go to the worker.
      if (this.closed || options.signal?.aborted) return [];
      throw error;
    }
  }

  private async reserveLoop(options: ReserveOptions): Promise<Delivery[]> {
    if (!(options.max >= 1) || options.queues.length === 0) return [];
    const max = Math.trunc(options.max);
    const deadline = performance.now() + Math.max(0, options.waitMs ?? 0);
    for (;;) {
      if (this.closed || options.signal?.aborted) return [];
      const taken = await this.take(options.queues, max, options.visibilityTimeoutMs);
      if (taken.length > 0 || this.closed || options.signal?.aborted) return taken;
      const remaining = deadline - performance.now();
      if (remaining <= 0) return [];
      const popped = await this.blockingPop(options.queues, Math.min(remaining, MAX_BLOCK_MS), options.signal);
      if (popped === undefined) continue;
      const first = await this.claim(popped.envelope, popped.queue, options.visibilityTimeoutMs);
      const more = max > 1 ? await this.take(options.queues, max - 1, options.visibilityTimeoutMs) : [];
      const all = first ? [first, ...more] : more;
      if (all.length > 0) return all;
    }
  }

  async extend(delivery: Delivery, visibilityTimeoutMs: number): Promise<boolean> {
    if (this.closed) return false;
    return (await EXTEND.run(this.redis, [this.prefix, String(delivery.leaseId), this.leaseScore(visibilityTimeoutMs)])) === 1;
  }

  async ack(delivery: Delivery): Promise<boolean> {
    if (this.closed) return false;
    return (await ACK.run(this.redis, [this.prefix, String(delivery.leaseId)])) === 1;
  }

  async release(delivery: Delivery, options: ReleaseOptions = {}): Promise<boolean> {
    if (this.closed) return false;
    const replacement = options.message;
    const encoded = replacement ? toEnvelope(replacement) : undefined;
    const delayMs = Math.max(0, Math.trunc(options.delayMs ?? 0));
    const result = await RELEASE.run(this.redis, [
      this.prefix,
      String(delivery.leaseId),
      this.now(),
      delayMs,
      randomUUID(),
      encoded?.envelope ?? "",
      encoded?.list ?? "",
      replacement?.queue ?? "",
      replacement?.id ?? "",
    ]);
    if (replacement) await this.redis.sadd(this.key("laminar.queues"), replacement.queue);
    return result === 1;
  }

  async deadLetter(delivery: Delivery, reason: string): Promise<boolean> {
    if (this.closed) return false;
    const letter = JSON.stringify({ message: delivery.message, reason: String(reason), at: this.now(), queue: delivery.message.queue });
    return (await DEAD_LETTER.run(this.redis, [this.prefix, String(delivery.leaseId), letter, delivery.message.queue, ""])) === 1;
  }

  async deadLetters(limit: number): Promise<DeadLetter[]> {
    const n = Math.max(0, Math.trunc(limit) || 0);
    if (n === 0) return [];
    const raw = await this.redis.lrange(this.key("laminar.dead"), 0, n - 1);
    return raw.map((text) => {
      const { message, reason, at } = JSON.parse(text) as DeadLetter;
      return { message, reason, at };
    });
  }

  async revoke(taskId: string, options: { terminate?: boolean } = {}): Promise<void> {
    this.checkOpen();
    const terminate = options.terminate === true;
    await REVOKE.run(this.redis, [this.prefix, String(taskId), terminate ? 1 : 0, 0, this.maxRevocations]);
    if (this.pidbox) await this.redis.publish(this.pidboxChannel(), encodePidboxRevoke(String(taskId), terminate, this.now()));
  }

  async isRevoked(taskId: string): Promise<boolean> {
    return (await this.redis.sismember(this.key("laminar.revoked"), String(taskId))) === 1;
  }

  async revocations(afterSeq: number): Promise<Revocation[]> {
    // The worker polls this: from the first poll on, Python's revoke broadcasts are recorded too.
    if (this.pidbox && !this.pidboxListener && !this.closed) this.listenToPidbox();
    const raw = await this.redis.zrangebyscore(this.key("laminar.revocations"), `(${Math.trunc(afterSeq) || 0}`, "+inf");
    return raw.map((entry) => {
      const first = entry.indexOf(":");
      const second = entry.indexOf(":", first + 1);
      return { seq: Number(entry.slice(0, first)), terminate: entry.slice(first + 1, second) === "1", taskId: entry.slice(second + 1) };
    });
  }

  async stats(): Promise<QueueStats[]> {
    const now = this.now();
    const flat = (await STATS.run(this.redis, [this.prefix, now, this.restoreCeil(now)])) as (string | number)[];
    const out: QueueStats[] = [];
    for (let i = 0; i < flat.length; i += 5) {
      out.push({ queue: String(flat[i]), ready: Number(flat[i + 1]), delayed: Number(flat[i + 2]), leased: Number(flat[i + 3]), dead: Number(flat[i + 4]) });
    }
    return out.sort((a, b) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : 0));
  }

  async heartbeat(info: WorkerInfo): Promise<void> {
    this.checkOpen();
    await this.redis.hset(this.key("laminar.workers"), info.id, JSON.stringify(info));
  }

  async workers(withinMs: number): Promise<WorkerInfo[]> {
    const since = this.now() - withinMs;
    const all = await this.redis.hvals(this.key("laminar.workers"));
    return all.map((text) => JSON.parse(text) as WorkerInfo).filter((w) => w.seenAt >= since);
  }

  async removeWorker(id: string): Promise<void> {
    await this.redis.hdel(this.key("laminar.workers"), id);
  }

  async acquireLock(name: string, owner: string, ttlMs: number): Promise<boolean> {
    this.checkOpen();
    return (await ACQUIRE_LOCK.run(this.redis, [this.prefix, name, owner, this.now(), Math.max(1, Math.trunc(ttlMs))])) === 1;
  }

  async releaseLock(name: string, owner: string): Promise<void> {
    await RELEASE_LOCK.run(this.redis, [this.prefix, name, owner]);
  }

  async claimOnce(key: string, ttlMs: number): Promise<boolean> {
    this.checkOpen();
    return (await this.redis.set(this.key(`laminar.once.${key}`), "1", "PX", Math.max(1, Math.trunc(ttlMs)), "NX")) === "OK";
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const connection of [...this.blocking, ...this.idle]) connection.disconnect();
    this.pidboxListener?.disconnect();
    this.blocking.clear();
    this.idle.length = 0;
    if (this.owned) await this.redis.quit().catch(() => undefined);
  }

  // --- internals -------------------------------------------------------------------------------

  private key(name: string): string {
    return this.prefix + name;
  }

  private checkOpen(): void {
    if (this.closed) throw new BrokerUnavailable("redis://", "the broker was closed");
  }

  /** The `unacked_index` score of a lease ending `visibilityTimeoutMs` from now (seconds, kombu's unit). */
  private leaseScore(visibilityTimeoutMs: number): string {
    return String((this.now() + Math.max(0, visibilityTimeoutMs) - this.kombuVtMs) / 1000);
  }

  /** Entries scored at or below this have lapsed (kombu's `time() - visibility_timeout`, inclusive as its ZREVRANGEBYSCORE). */
  private restoreCeil(now: number): string {
    return String((now - this.kombuVtMs) / 1000);
  }

  /** Pops and leases up to `max` messages in one script. */
  private async take(queues: readonly string[], max: number, visibilityTimeoutMs: number): Promise<Delivery[]> {
    const now = this.now();
    const tags = Array.from({ length: max }, () => randomUUID());
    const flat = (await RESERVE.run(this.redis, [
      this.prefix,
      now,
      this.restoreCeil(now),
      this.leaseScore(visibilityTimeoutMs),
      max,
      queues.length,
      ...queues,
      ...tags,
    ])) as (string | number)[];
    const out: Delivery[] = [];
    for (let i = 0; i < flat.length; i += 4) {
      const delivery = await this.deliver(String(flat[i]), String(flat[i + 1]), String(flat[i + 2]), Number(flat[i + 3]));
      if (delivery) out.push(delivery);
    }
    return out;
  }

  /** Leases what a BRPOP returned. */
  private async claim(envelope: string, queue: string, visibilityTimeoutMs: number): Promise<Delivery | undefined> {
    const tag = randomUUID();
    const deliveries = await CLAIM.run(this.redis, [this.prefix, envelope, queue, tag, this.leaseScore(visibilityTimeoutMs)]);
    if (deliveries === null || deliveries === undefined) return undefined;
    return this.deliver(envelope, tag, queue, Number(deliveries));
  }

  /** Decodes a leased envelope; one that is not due yet goes to the delayed set, one that cannot be read is set aside. */
  private async deliver(envelope: string, tag: string, queue: string, deliveries: number): Promise<Delivery | undefined> {
    let message: TaskMessage;
    try {
      message = fromEnvelope(envelope, queue, this.now);
    } catch (error) {
      // Not a protocol 2 JSON task (a pickled body, protocol 1): kept aside whole, not lost and not retried for ever.
      const reason = error instanceof Error ? error.message : String(error);
      await DEAD_LETTER.run(this.redis, [this.prefix, tag, reason, queue, UNDECODABLE_LIST]);
      return undefined;
    }
    if (message.eta !== undefined && message.eta > this.now()) {
      await DEFER.run(this.redis, [this.prefix, tag, String(Math.trunc(message.eta)), randomUUID()]);
      return undefined;
    }
    return { message, leaseId: tag, deliveries };
  }

  /** BRPOP over every list of `queues` for up to `ms`, on a connection of its own; undefined when nothing came. */
  private async blockingPop(queues: readonly string[], ms: number, signal: AbortSignal | undefined): Promise<{ envelope: string; queue: string } | undefined> {
    const keys: string[] = [];
    const queueOf = new Map<string, string>();
    for (let step = 0; step < 4; step++) {
      for (const queue of queues) {
        const key = this.key(listNames(queue)[step]!);
        keys.push(key);
        queueOf.set(key, queue);
      }
    }
    const connection = this.idle.pop() ?? this.newBlockingConnection();
    this.blocking.add(connection);
    let healthy = false;
    let timer: NodeJS.Timeout | undefined;
    const giveUp = (): void => connection.disconnect();
    signal?.addEventListener("abort", giveUp);
    try {
      const result = await Promise.race([
        connection.brpop(keys, Math.max(0.01, ms / 1000)),
        new Promise<"stuck">((resolve) => (timer = setTimeout(() => resolve("stuck"), ms + BLOCK_GRACE_MS))),
      ]);
      if (result === "stuck") return undefined;
      healthy = true;
      if (result === null) return undefined;
      return { envelope: result[1], queue: queueOf.get(result[0]) ?? result[0] };
    } catch {
      // A lost connection, an abort, a close: the caller loops (and returns [] when closed or aborted).
      return undefined;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", giveUp);
      this.blocking.delete(connection);
      if (healthy && !this.closed && !signal?.aborted) this.idle.push(connection);
      else connection.disconnect();
    }
  }

  private pidboxChannel(): string {
    return pidboxChannel(this.prefix, this.redis.options.db ?? 0);
  }

  private listenToPidbox(): void {
    const listener = this.redis.duplicate();
    listener.on("error", () => undefined);
    listener.on("message", (_channel: string, text: string) => {
      const revoke = decodePidboxRevoke(text);
      if (!revoke || this.closed) return;
      for (const taskId of revoke.taskIds) {
        void REVOKE.run(this.redis, [this.prefix, taskId, revoke.terminate ? 1 : 0, 1, this.maxRevocations]).catch(() => undefined);
      }
    });
    // ioredis subscribes again after a reconnect.
    void listener.subscribe(this.pidboxChannel()).catch(() => undefined);
    this.pidboxListener = listener;
  }

  private newBlockingConnection(): Redis {
    // Commands of a blocking connection are never retried across a reconnect: the reserve loop
    // issues a fresh BRPOP instead (a resent BRPOP on a replaced socket is how celery#8030 hangs).
    const connection = this.redis.duplicate({ maxRetriesPerRequest: 0, autoResendUnfulfilledCommands: false, enableOfflineQueue: true });
    connection.on("error", () => undefined);
    return connection;
  }
}
