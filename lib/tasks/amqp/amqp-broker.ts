/**
 * The RabbitMQ broker (amqplib), speaking what Celery's py-amqp transport speaks, so a laminar
 * publisher feeds Python Celery workers and a laminar worker consumes what Python publishes.
 *
 * Topology, as Celery declares it by default (`task_create_missing_queues`: kombu's
 * `Queue(name, Exchange(name, "direct"), routing_key=name)`, durable): for a queue `q`, a durable
 * direct exchange `q` and a durable queue `q` bound with routing key `q`; the default `celery` queue
 * is bound to the `celery` exchange with key `celery`. Messages are Celery protocol 2
 * (`amqp-wire.ts`), persistent, published on a confirm channel (publish resolves once RabbitMQ
 * confirmed it).
 *
 * Queue arguments: Celery declares its queues without arguments unless `task_queue_max_priority` is
 * set, and RabbitMQ refuses (PRECONDITION_FAILED) a declare whose arguments differ from the existing
 * queue's. So by default laminar declares none either (priorities are then sorted only among what one
 * reserve fetched); `maxPriority` adds `x-max-priority` — set it to the Python side's
 * `task_queue_max_priority`. A declare refused that way is not fatal: the queue exists, laminar uses it
 * as it is.
 *
 * Leases: a lease is an unacked delivery (`<channel generation>:<delivery tag>`). RabbitMQ has no
 * visibility timeout: an unacked message comes back when the channel or connection closes (the worker
 * died), never because time passed, so `extend` only says whether the lease is still held and
 * `visibilityTimeoutMs` is ignored. (RabbitMQ's own `consumer_timeout`, 30 min by default, closes a
 * channel that keeps a delivery unacked longer: a task running longer than that is redelivered.)
 * `release` nacks with requeue; with a delay or a replacement it publishes first, then acks — never
 * the other way round, so a crash in between duplicates rather than loses.
 *
 * Reserving: without `waitMs`, `basic.get` on each queue (deterministic: what is in the queue now);
 * with `waitMs`, a consumer per queue (prefetch `prefetch`, Celery's concurrency × multiplier) feeds
 * an in-process buffer the reserve waits on. Buffered messages are unacked, as Celery's prefetched
 * ones. A message whose ETA is still ahead (Python publishes ETA messages straight to the queue) is
 * moved to a delay queue (`delay-queues.ts`) instead of being kept in memory.
 *
 * Not on RabbitMQ: revocations, locks, `claimOnce` and worker heartbeats need a key-value store. They
 * go to `control` (any {@link ControlStore}: a `RedisBroker` or `SqliteBroker` shared by the processes;
 * by default an in-process `MemoryBroker`, which only this process sees). A revoke is also broadcast
 * on Celery's `celery.pidbox` fanout exchange when it exists, so Python workers honour it. Dead letters
 * are published to `<queue>.laminar.dead` (durable) and listed from this process's memory. A consuming
 * broker also listens on `celery.pidbox`, so a revoke sent from Python (`app.control.revoke`) reaches
 * the control store (`pidbox.ts`).
 *
 * Connection loss: everything unacked returns to RabbitMQ; the broker reconnects with backoff (up to
 * 5 s), and consumers resume (what celery#8030 complains Celery does not always do on Redis).
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import amqp, { type Channel, type ChannelModel, type ConfirmChannel, type Message } from "amqplib";
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
import { encodeMessage } from "../broker-support/message-codec.js";
import type { TaskMessage } from "../message.js";
import { MemoryBroker } from "../memory/memory-broker.js";
import { amqpPriority, deliveryCount, fromAmqp, toAmqp } from "./amqp-wire.js";
import { delayQueueArguments, delayQueueName } from "./delay-queues.js";
import { parseRevoke, PIDBOX_EXCHANGE, revokeBody } from "./pidbox.js";

/** The parts of a broker RabbitMQ cannot keep: revocations, worker reports, locks, once-claims. */
export type ControlStore = Pick<
  Broker,
  "revoke" | "isRevoked" | "revocations" | "heartbeat" | "workers" | "removeWorker" | "acquireLock" | "releaseLock" | "claimOnce" | "close"
>;

/** Options of {@link AmqpBroker}. */
export interface AmqpBrokerOptions {
  /** `amqp://user:pass@host:port/vhost`. */
  url: string;
  /** Unacked deliveries a consumer may hold per queue (Celery: concurrency × worker_prefetch_multiplier). Default 64. */
  prefetch?: number;
  /** Declares laminar's queues with `x-max-priority` (match Celery's `task_queue_max_priority`). Default: none. */
  maxPriority?: number;
  /** Physical queue names are `<prefix><queue>` (tests and shared vhosts); Python workers must use those names. */
  queuePrefix?: string;
  /**
   * Queues laminar declares get `x-expires` (RabbitMQ deletes them once unused this long) and its
   * exchanges are auto-delete: nothing is left behind (tests). Python declares without these, so do
   * not set it on queues Python workers also declare.
   */
  idleQueueExpiresMs?: number;
  /** Where revocations, locks, once-claims and heartbeats live (see the module comment). */
  control?: ControlStore;
  /** A consuming broker listens for Celery's broadcast revokes on `celery.pidbox` (default true). */
  listenPidbox?: boolean;
  /** The clock (epoch ms): ETAs and dead-letter times. */
  now?: () => number;
}

interface Lease {
  raw: Message;
  message: TaskMessage;
  generation: number;
}

interface Buffered {
  raw: Message;
  message: TaskMessage;
  queue: string;
  deliveries: number;
  generation: number;
  seq: number;
}

interface Session {
  connection: ChannelModel;
  publisher: ConfirmChannel;
  consumer: Channel;
  generation: number;
}

/** The RabbitMQ broker (see the module comment). */
export class AmqpBroker implements Broker {
  private readonly url: string;
  private readonly prefetch: number;
  private readonly maxPriority: number | undefined;
  private readonly prefix: string;
  private readonly idleExpiresMs: number | undefined;
  private readonly control: ControlStore;
  private readonly ownsControl: boolean;
  private readonly now: () => number;
  private readonly listenPidbox: boolean;
  /** Marks this broker's own pidbox broadcasts (ignored when they come back). */
  private readonly instanceId = randomUUID();

  private session: Session | undefined;
  private connecting: Promise<Session> | undefined;
  private generation = 0;
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectFailures = 0;

  private readonly leases = new Map<string, Lease>();
  private buffer: Buffered[] = [];
  private seq = 0;
  private readonly declared = new Set<string>();
  /** Physical queues whose exchange `<queue>` is bound to them (published through it; else through the default exchange). */
  private readonly exchanges = new Set<string>();
  /** Every delay queue used, for stats (kept across reconnects). */
  private readonly delayQueues = new Set<string>();
  /** Logical queues with a consumer (kept across reconnects). */
  private readonly consumed = new Set<string>();
  private readonly known = new Set<string>();
  private readonly waiters = new Set<() => void>();
  private readonly dead: DeadLetter[] = [];

  constructor(options: AmqpBrokerOptions) {
    this.url = options.url;
    this.prefetch = Math.max(1, Math.floor(options.prefetch ?? 64));
    this.maxPriority = options.maxPriority;
    this.prefix = options.queuePrefix ?? "";
    this.idleExpiresMs = options.idleQueueExpiresMs;
    this.now = options.now ?? Date.now;
    this.listenPidbox = options.listenPidbox ?? true;
    this.ownsControl = options.control === undefined;
    this.control = options.control ?? new MemoryBroker({ now: this.now });
  }

  // --- publishing ----------------------------------------------------------------------------

  async publish(message: TaskMessage): Promise<void> {
    await this.publishMany([message]);
  }

  async publishMany(messages: readonly TaskMessage[]): Promise<void> {
    // Checked (and copied) before anything is sent: a batch with one bad message publishes none.
    const copies = messages.map((m) => JSON.parse(encodeMessage(m)) as TaskMessage);
    if (copies.length === 0) return;
    const session = await this.open();
    const wanted: TaskMessage[] = [];
    for (const message of copies) {
      if (!(await this.control.isRevoked(message.id))) wanted.push(message);
    }
    // Declared first, then published back to back on one channel, so they arrive in this order.
    const prepared: (() => Promise<void>)[] = [];
    for (const message of wanted) prepared.push(await this.prepare(session, message));
    for (const message of wanted) this.known.add(message.queue);
    await Promise.all(prepared.map((publish) => publish()));
  }

  /** Publishes one message and waits for RabbitMQ's confirm. */
  private async send(session: Session, message: TaskMessage): Promise<void> {
    await (await this.prepare(session, message))();
  }

  /**
   * Declares what `message` needs and returns its publish: to the queue's exchange, or to a delay
   * queue when the ETA is ahead. The returned function publishes synchronously before its first await.
   */
  private async prepare(session: Session, message: TaskMessage): Promise<() => Promise<void>> {
    const queue = this.physical(message.queue);
    await this.declareQueue(session, message.queue);
    const delayMs = typeof message.eta === "number" && Number.isFinite(message.eta) ? Math.ceil(message.eta - this.now()) : 0;
    const { content, options } = toAmqp(message, queue, queue);
    if (delayMs > 0) {
      const delayQueue = delayQueueName(queue, delayMs);
      await this.assertQueue(session, delayQueue, delayQueueArguments(queue, this.idleExpiresMs));
      this.delayQueues.add(delayQueue);
      return () => confirmPublish(session.publisher, "", delayQueue, content, { ...options, expiration: String(delayMs) });
    }
    // Through the queue's exchange, as Celery routes; through the default exchange (routing key =
    // queue name) when that exchange could not be declared: publishing to a missing exchange would
    // close the channel.
    const exchange = this.exchanges.has(queue) ? queue : "";
    return () => confirmPublish(session.publisher, exchange, queue, content, options);
  }

  // --- reserving -----------------------------------------------------------------------------

  async reserve(options: ReserveOptions): Promise<Delivery[]> {
    const { queues, max, signal } = options;
    if (this.closed || max <= 0 || queues.length === 0 || signal?.aborted) return [];
    try {
      return await this.reserveOpen(options);
    } catch (error) {
      // close() during a reserve ends it with nothing, as the contract says; anything else is an error.
      if (this.closed) return [];
      throw error;
    }
  }

  private async reserveOpen(options: ReserveOptions): Promise<Delivery[]> {
    const { queues, max, signal } = options;
    const deadline = Date.now() + Math.max(0, options.waitMs ?? 0);
    let session = await this.open();
    for (const queue of queues) await this.declareQueue(session, queue);
    for (;;) {
      const got = await this.collect(session, queues, max);
      if (got.length > 0 || this.closed || signal?.aborted) return signal?.aborted ? this.unlease(got) : got;
      const left = deadline - Date.now();
      if (left <= 0) return [];
      // A delivery arriving while the consumers start must not be slept through: compare the count.
      const seen = this.seq;
      for (const queue of queues) await this.consume(session, queue);
      if (this.seq === seen) await this.waitForDelivery(left, signal);
      if (this.closed || signal?.aborted) return [];
      session = await this.open();
    }
  }

  /** Takes up to `max` from the buffer and `basic.get`, drops revoked ones, delays early ones, leases the rest. */
  private async collect(session: Session, queues: readonly string[], max: number): Promise<Delivery[]> {
    const wanted = new Set(queues);
    const count = (queue: string): number => this.buffer.filter((b) => b.queue === queue && b.generation === session.generation).length;
    for (const queue of queues) {
      for (let n = count(queue); n < max; n++) {
        const raw = await session.consumer.get(this.physical(queue), { noAck: false });
        if (raw === false) break;
        this.accept(session, queue, raw);
      }
    }
    this.buffer = this.buffer.filter((b) => b.generation === this.generation);
    const candidates = this.buffer
      .filter((b) => wanted.has(b.queue))
      .sort((a, b) => amqpPriority(b.message.priority) - amqpPriority(a.message.priority) || a.seq - b.seq);
    const out: Delivery[] = [];
    for (const item of candidates) {
      if (out.length >= max) break;
      this.buffer.splice(this.buffer.indexOf(item), 1);
      if (await this.control.isRevoked(item.message.id)) {
        this.settle(item.generation, (c) => c.ack(item.raw));
        continue;
      }
      const eta = item.message.eta;
      if (typeof eta === "number" && eta > this.now()) {
        // An ETA message published straight to the queue (by Python): held by a delay queue, not here.
        await this.send(session, item.message);
        this.settle(item.generation, (c) => c.ack(item.raw));
        continue;
      }
      const leaseId = `${item.generation}:${item.raw.fields.deliveryTag}`;
      this.leases.set(leaseId, { raw: item.raw, message: item.message, generation: item.generation });
      out.push({ message: item.message, leaseId, deliveries: item.deliveries });
    }
    return out;
  }

  /** A delivery arrived (get or consume): decoded into the buffer, or dead-lettered when it is not a task. */
  private accept(session: Session, queue: string, raw: Message): void {
    if (session.generation !== this.generation) return;
    this.known.add(queue);
    let message: TaskMessage;
    try {
      message = fromAmqp(raw, queue, this.now);
    } catch (error) {
      // Not a protocol 2 task (protocol 1, another app's message, garbage): rejected without requeue
      // (RabbitMQ drops it or moves it to the queue's own dead-letter exchange), recorded here.
      this.dead.unshift({
        message: { id: raw.properties.correlationId ?? "", task: "", args: [], kwargs: {}, queue, priority: 0, retries: 0, rootId: "", publishedAt: this.now() },
        reason: `not a Celery protocol 2 task message: ${(error as Error).message}`,
        at: this.now(),
      });
      session.consumer.nack(raw, false, false);
      return;
    }
    this.buffer.push({ raw, message, queue, deliveries: deliveryCount(raw), generation: session.generation, seq: ++this.seq });
    for (const wake of [...this.waiters]) wake();
  }

  private waitForDelivery(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  /** Starts a consumer on `queue` (once per connection). */
  private async consume(session: Session, queue: string): Promise<void> {
    const key = `${session.generation}:${queue}`;
    if (this.declared.has(`consume:${key}`)) return;
    this.declared.add(`consume:${key}`);
    this.consumed.add(queue);
    await session.consumer.consume(this.physical(queue), (raw) => {
      if (raw !== null) this.accept(session, queue, raw);
    });
    if (this.listenPidbox) await this.listenForRevokes(session);
  }

  /**
   * A consuming broker also listens on Celery's `celery.pidbox` (an exclusive, auto-delete queue of
   * its own bound to the fanout exchange, as a Python worker's), so `app.control.revoke(id)` sent from
   * Python reaches the control store and laminar workers drop or stop the task (pidbox.ts).
   */
  private async listenForRevokes(session: Session): Promise<void> {
    if (this.declared.has(`pidbox:${session.generation}`)) return;
    this.declared.add(`pidbox:${session.generation}`);
    try {
      await withChannel(session, (channel) => channel.assertExchange(PIDBOX_EXCHANGE, "fanout", { durable: false, autoDelete: false }));
      const { queue } = await session.consumer.assertQueue("", { exclusive: true, autoDelete: true, durable: false });
      await session.consumer.bindQueue(queue, PIDBOX_EXCHANGE, "");
      await session.consumer.consume(queue, (raw) => {
        if (raw === null) return;
        const revoke = parseRevoke(raw.content);
        if (revoke && revoke.origin !== this.instanceId) for (const taskId of revoke.taskIds) void this.control.revoke(taskId, { terminate: revoke.terminate }).catch(() => undefined);
      }, { noAck: true });
    } catch {
      // An exchange declared with other flags: Python revokes do not reach this worker (theirs still do).
    }
  }

  /** Gives back deliveries leased by a reserve that was aborted meanwhile. */
  private unlease(deliveries: Delivery[]): Delivery[] {
    for (const d of deliveries) {
      const lease = this.leases.get(d.leaseId);
      if (!lease) continue;
      this.leases.delete(d.leaseId);
      this.settle(lease.generation, (c) => c.nack(lease.raw, false, true));
    }
    return [];
  }

  // --- leases --------------------------------------------------------------------------------

  async extend(delivery: Delivery): Promise<boolean> {
    return this.held(delivery) !== undefined;
  }

  async ack(delivery: Delivery): Promise<boolean> {
    const lease = this.take(delivery);
    if (!lease) return false;
    return this.settle(lease.generation, (c) => c.ack(lease.raw));
  }

  async release(delivery: Delivery, options: ReleaseOptions = {}): Promise<boolean> {
    const lease = this.held(delivery);
    if (!lease) return false;
    const delayMs = Math.max(0, options.delayMs ?? 0);
    if (options.message === undefined && delayMs === 0) {
      this.leases.delete(delivery.leaseId);
      return this.settle(lease.generation, (c) => c.nack(lease.raw, false, true));
    }
    const replacement = JSON.parse(encodeMessage(options.message ?? lease.message)) as TaskMessage;
    if (delayMs > 0) replacement.eta = Math.max(replacement.eta ?? 0, this.now() + delayMs);
    // Publish, then ack: a crash in between leaves two messages, never none.
    const session = await this.open();
    await this.send(session, replacement);
    if (this.leases.get(delivery.leaseId) !== lease) return false;
    this.leases.delete(delivery.leaseId);
    return this.settle(lease.generation, (c) => c.ack(lease.raw));
  }

  async deadLetter(delivery: Delivery, reason: string): Promise<boolean> {
    const lease = this.held(delivery);
    if (!lease) return false;
    const session = await this.open();
    const queue = `${this.physical(lease.message.queue)}.laminar.dead`;
    await this.assertQueue(session, queue, this.idleExpiresMs === undefined ? {} : { "x-expires": this.idleExpiresMs });
    const at = this.now();
    const { content, options } = toAmqp(lease.message, "", queue);
    await confirmPublish(session.publisher, "", queue, content, { ...options, headers: { ...options.headers, laminar_dead_reason: reason, laminar_dead_at: at } });
    if (this.leases.get(delivery.leaseId) !== lease) return false;
    this.leases.delete(delivery.leaseId);
    this.dead.unshift({ message: lease.message, reason, at });
    return this.settle(lease.generation, (c) => c.ack(lease.raw));
  }

  async deadLetters(limit: number): Promise<DeadLetter[]> {
    return this.dead.slice(0, Math.max(0, limit));
  }

  private held(delivery: Delivery): Lease | undefined {
    const lease = typeof delivery?.leaseId === "string" ? this.leases.get(delivery.leaseId) : undefined;
    return lease && lease.generation === this.generation ? lease : undefined;
  }

  private take(delivery: Delivery): Lease | undefined {
    const lease = this.held(delivery);
    if (lease) this.leases.delete(delivery.leaseId);
    return lease;
  }

  /** Acks/nacks on the channel the delivery came on; false when that channel is gone (RabbitMQ requeued it). */
  private settle(generation: number, action: (channel: Channel) => void): boolean {
    const session = this.session;
    if (!session || session.generation !== generation) return false;
    try {
      action(session.consumer);
      return true;
    } catch {
      return false;
    }
  }

  // --- revocation and the control store --------------------------------------------------------

  async revoke(taskId: string, options: { terminate?: boolean } = {}): Promise<void> {
    await this.control.revoke(taskId, options);
    // Leased or buffered here: dropped now (a terminate is the worker's business, through revocations()).
    for (const [leaseId, lease] of this.leases) {
      if (lease.message.id !== taskId) continue;
      this.leases.delete(leaseId);
      this.settle(lease.generation, (c) => c.ack(lease.raw));
    }
    await this.broadcastRevoke(taskId, options.terminate === true).catch(() => undefined);
  }

  /**
   * Celery's remote control `revoke` (kombu `Mailbox._broadcast`: a JSON `{method, arguments,
   * destination, pattern, matcher}` on the fanout exchange `celery.pidbox`), sent only when that
   * exchange exists: a Python worker has declared it, and nobody listens otherwise.
   */
  private async broadcastRevoke(taskId: string, terminate: boolean): Promise<void> {
    const session = await this.open();
    const probe = await session.connection.createChannel();
    probe.on("error", () => undefined);
    try {
      await probe.checkExchange(PIDBOX_EXCHANGE);
    } catch {
      return;
    } finally {
      await probe.close().catch(() => undefined);
    }
    await confirmPublish(session.publisher, PIDBOX_EXCHANGE, "", Buffer.from(JSON.stringify(revokeBody(taskId, terminate, this.instanceId))), {
      contentType: "application/json",
      contentEncoding: "utf-8",
      headers: { clock: 1, expires: 0 },
      deliveryMode: 1,
    });
  }

  isRevoked(taskId: string): Promise<boolean> {
    return this.control.isRevoked(taskId);
  }

  revocations(afterSeq: number): Promise<Revocation[]> {
    return this.control.revocations(afterSeq);
  }

  heartbeat(info: WorkerInfo): Promise<void> {
    return this.control.heartbeat(info);
  }

  workers(withinMs: number): Promise<WorkerInfo[]> {
    return this.control.workers(withinMs);
  }

  removeWorker(id: string): Promise<void> {
    return this.control.removeWorker(id);
  }

  acquireLock(name: string, owner: string, ttlMs: number): Promise<boolean> {
    return this.control.acquireLock(name, owner, ttlMs);
  }

  releaseLock(name: string, owner: string): Promise<void> {
    return this.control.releaseLock(name, owner);
  }

  claimOnce(key: string, ttlMs: number): Promise<boolean> {
    return this.control.claimOnce(key, ttlMs);
  }

  // --- stats ---------------------------------------------------------------------------------

  async stats(): Promise<QueueStats[]> {
    const session = await this.open();
    // On channels of their own: a queue RabbitMQ deleted meanwhile (x-expires) fails its check only.
    const depth = (name: string): Promise<number> =>
      withChannel(session, async (channel) => (await channel.checkQueue(name)).messageCount).catch(() => 0);
    const out: QueueStats[] = [];
    for (const queue of [...this.known].sort()) {
      const physical = this.physical(queue);
      const ready = await depth(physical);
      let delayed = 0;
      for (const name of this.delayQueues) {
        if (name.startsWith(`laminar.delay.${physical}.`)) delayed += await depth(name);
      }
      const buffered = this.buffer.filter((b) => b.queue === queue && b.generation === this.generation).length;
      const leased = [...this.leases.values()].filter((l) => l.message.queue === queue && l.generation === this.generation).length;
      const dead = this.dead.filter((d) => d.message.queue === queue).length;
      out.push({ queue, ready: ready + buffered, delayed, leased, dead });
    }
    return out;
  }

  // --- connection ----------------------------------------------------------------------------

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    for (const wake of [...this.waiters]) wake();
    const session = this.session ?? (await this.connecting?.catch(() => undefined));
    this.session = undefined;
    this.leases.clear();
    this.buffer = [];
    if (session) await session.connection.close().catch(() => undefined);
    if (this.ownsControl) await this.control.close();
  }

  private physical(queue: string): string {
    return `${this.prefix}${queue}`;
  }

  /** The current session, connecting when there is none. Rejects when RabbitMQ cannot be reached. */
  private open(): Promise<Session> {
    if (this.closed) return Promise.reject(new Error("the AMQP broker is closed"));
    if (this.session) return Promise.resolve(this.session);
    this.connecting ??= this.connect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async connect(): Promise<Session> {
    // Heartbeats (15 s unless the URL says) so a silently dead peer is noticed and its RPCs fail.
    const url = /[?&]heartbeat=/.test(this.url) ? this.url : `${this.url}${this.url.includes("?") ? "&" : "?"}heartbeat=15`;
    const connection = await amqp.connect(url);
    try {
      const generation = ++this.generation;
      connection.on("error", () => undefined);
      connection.on("close", () => this.lost(generation));
      const publisher = await connection.createConfirmChannel();
      const consumer = await connection.createChannel();
      publisher.on("error", () => undefined);
      consumer.on("error", () => undefined);
      // A channel closed by RabbitMQ (a protocol error) is as good as a lost connection here.
      publisher.on("close", () => void connection.close().catch(() => undefined));
      consumer.on("close", () => void connection.close().catch(() => undefined));
      await consumer.prefetch(this.prefetch);
      const session: Session = { connection, publisher, consumer, generation };
      if (this.closed) {
        await connection.close().catch(() => undefined);
        throw new Error("the AMQP broker is closed");
      }
      this.session = session;
      this.reconnectFailures = 0;
      return session;
    } catch (error) {
      await connection.close().catch(() => undefined);
      throw error;
    }
  }

  /** The connection of `generation` is gone: its leases and buffer are void (RabbitMQ requeued them); reconnect. */
  private lost(generation: number): void {
    if (this.session?.generation !== generation && this.generation !== generation) return;
    this.session = undefined;
    this.generation++;
    this.declared.clear();
    this.leases.clear();
    this.buffer = [];
    for (const wake of [...this.waiters]) wake();
    if (!this.closed && this.consumed.size > 0) this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    clearTimeout(this.reconnectTimer);
    const delay = Math.min(5_000, 100 * 2 ** Math.min(this.reconnectFailures++, 6));
    this.reconnectTimer = setTimeout(() => {
      if (this.closed) return;
      this.open()
        .then(async (session) => {
          for (const queue of this.consumed) {
            await this.declareQueue(session, queue);
            await this.consume(session, queue);
          }
        })
        .catch(() => {
          if (!this.closed && !this.session) this.scheduleReconnect();
        });
    }, delay);
    this.reconnectTimer.unref();
  }

  /** Declares Celery's topology for a logical queue (once per connection). */
  private async declareQueue(session: Session, queue: string): Promise<void> {
    const physical = this.physical(queue);
    if (this.declared.has(physical)) return;
    const args: Record<string, unknown> = {};
    if (this.maxPriority !== undefined) args["x-max-priority"] = this.maxPriority;
    if (this.idleExpiresMs !== undefined) args["x-expires"] = this.idleExpiresMs;
    await this.assertQueue(session, physical, args);
    await withChannel(session, async (channel) => {
      await channel.assertExchange(physical, "direct", { durable: true, autoDelete: this.idleExpiresMs !== undefined });
      await channel.bindQueue(physical, physical, physical);
      this.exchanges.add(physical);
    }).catch(() => {
      // An exchange of that name with other flags exists: messages go through it as it is.
    });
  }

  /**
   * Declares a durable queue on a throwaway channel: when RabbitMQ refuses (the queue exists with
   * other arguments, PRECONDITION_FAILED), it is used as it is if it exists at all.
   */
  private async assertQueue(session: Session, name: string, args: Record<string, unknown>): Promise<void> {
    if (this.declared.has(name)) return;
    try {
      await withChannel(session, (channel) => channel.assertQueue(name, { durable: true, arguments: args }));
    } catch {
      await withChannel(session, (channel) => channel.checkQueue(name));
    }
    if (session.generation === this.generation) this.declared.add(name);
  }
}

/** Runs `work` on a channel of its own, closed afterwards (a failed declare closes only that channel). */
async function withChannel<T>(session: Session, work: (channel: Channel) => Promise<T>): Promise<T> {
  const channel = await session.connection.createChannel();
  channel.on("error", () => undefined);
  try {
    return await work(channel);
  } finally {
    await channel.close().catch(() => undefined);
  }
}

/** Publishes and resolves once RabbitMQ confirmed it (rejects on a nack or a closed channel). */
function confirmPublish(channel: ConfirmChannel, exchange: string, routingKey: string, content: Buffer, options: amqp.Options.Publish): Promise<void> {
  return new Promise((resolve, reject) => {
    try {
      channel.publish(exchange, routingKey, content, options, (error) => (error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve()));
    } catch (error) {
      reject(error instanceof Error ? error : new Error(String(error)));
    }
  });
}
