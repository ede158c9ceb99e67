/**
 * The broker contract: where published tasks wait until a worker takes them. Every broker
 * (`memory`, `sqlite`, later Redis and RabbitMQ) implements it and passes the one conformance
 * suite in `test/conformance/tasks/broker-cases.ts`.
 *
 * The model is a lease, not a push: a worker *reserves* due messages, which become invisible to
 * other workers until the lease's visibility timeout passes; it *extends* the lease while the task
 * runs, and *acks* it at the end. A lease that lapses (the worker died) makes the message due again,
 * so delivery is at-least-once.
 *
 * Delayed messages (an ETA, a countdown, a retry's backoff) are held by the broker and are not
 * delivered before they are due. A worker never keeps a reserved message in memory waiting for its
 * ETA: that is what makes Celery deliver an ETA task twice when the ETA is longer than the visibility
 * timeout (kombu#337, celery#2599), and it cannot happen here.
 *
 * Deliberately not in the contract: exchanges and routing (a message names its queue), message
 * TTL (a message's `expires` is checked by the worker, which records REVOKED), and cross-queue
 * ordering (only priority, then due time, then publish order within what one `reserve` returns).
 *
 * @module
 */
import type { TaskMessage } from "./message.js";

/** A reserved message and its lease. */
export interface Delivery {
  readonly message: TaskMessage;
  /**
   * The lease token. Once another `reserve` has taken the message (its lease lapsed), `ack`,
   * `extend`, `release` and `deadLetter` with this token do nothing and return false. A lease that
   * lapsed but that nobody took yet is still honoured (as SQS does), which spares a second run of a
   * task whose worker was only slow to renew.
   */
  readonly leaseId: string;
  /** How many times this message was delivered, this time included (1 on the first delivery). */
  readonly deliveries: number;
}

/** What {@link Broker.reserve} is asked for. */
export interface ReserveOptions {
  /** Queues to take from. */
  queues: readonly string[];
  /** At most this many messages. */
  max: number;
  /** The lease: the messages become due again this many ms from now unless extended or acked. */
  visibilityTimeoutMs: number;
  /** The reserving worker's id (`host:pid:n`), recorded for inspection. */
  consumer: string;
  /**
   * Wait up to this many ms for a message when none is due (a long poll). 0 or absent returns at once.
   * Brokers that cannot be woken (a SQLite file shared between processes) poll inside this wait.
   */
  waitMs?: number;
  /** Aborting returns an empty list at once (a worker shutting down). */
  signal?: AbortSignal;
}

/** How {@link Broker.release} puts a message back. */
export interface ReleaseOptions {
  /** Due again this many ms from now (0: at once). */
  delayMs?: number;
  /**
   * Replaces the stored message in the same step (a retry: `retries + 1`, a new `eta`), so there is
   * no moment at which the old message is acked and the new one not yet published.
   */
  message?: TaskMessage;
}

/** A message that failed for good, as the dead-letter place keeps it. */
export interface DeadLetter {
  message: TaskMessage;
  reason: string;
  /** Epoch ms. */
  at: number;
}

/** A queue's depths. */
export interface QueueStats {
  queue: string;
  /** Due and not leased. */
  ready: number;
  /** Held until an ETA. */
  delayed: number;
  /** Leased by a worker now. */
  leased: number;
  /** In the dead-letter place. */
  dead: number;
}

/** What a worker says about itself, for `laminar tasks inspect`. */
export interface WorkerInfo {
  /** `host:pid` or any unique name. */
  id: string;
  pid: number;
  hostname: string;
  queues: string[];
  concurrency: number;
  /** Epoch ms of the worker's start. */
  startedAt: number;
  /** Epoch ms of this report; a worker not heard from for a while is gone. */
  seenAt: number;
  processed: number;
  running: { id: string; task: string; startedAt: number }[];
}

/**
 * How many revocations a broker remembers by default; past it the oldest are forgotten (a task id
 * revoked that long ago is no longer refused). Celery's workers keep the same number
 * (`celery/worker/state.py`: `REVOKES_MAX = 50000`), in memory; laminar's brokers keep them where the
 * workers share them, so without a bound the set would grow for as long as the broker lives.
 */
export const DEFAULT_MAX_REVOCATIONS = 50_000;

/** A revocation, in the order brokers recorded them. */
export interface Revocation {
  /** Increasing: a worker polls `revocations(lastSeq)`. */
  seq: number;
  taskId: string;
  /** Also stop it where it is running now. */
  terminate: boolean;
}

/** The broker contract (see the module comment). All methods are safe to call concurrently. */
export interface Broker {
  /** Stores a message; it is delivered when due (`eta`, else at once) and not revoked. */
  publish(message: TaskMessage): Promise<void>;
  /** Publishes several in one step (one transaction where the broker has them). */
  publishMany(messages: readonly TaskMessage[]): Promise<void>;
  /**
   * Leases up to `max` due messages from `queues`, highest priority first, then earliest due, then
   * publish order. Never returns a revoked message (it is dropped) nor one leased by someone else.
   */
  reserve(options: ReserveOptions): Promise<Delivery[]>;
  /** Pushes the lease's end to `visibilityTimeoutMs` from now. False when the lease is no longer held. */
  extend(delivery: Delivery, visibilityTimeoutMs: number): Promise<boolean>;
  /** Done: removes the message. False when the lease is no longer held (it may run again elsewhere). */
  ack(delivery: Delivery): Promise<boolean>;
  /** Gives the message back, due at once or after `delayMs`, replaced by `message` when given. */
  release(delivery: Delivery, options?: ReleaseOptions): Promise<boolean>;
  /** Moves the message to the dead-letter place with why. */
  deadLetter(delivery: Delivery, reason: string): Promise<boolean>;
  /** The dead letters, newest first. */
  deadLetters(limit: number): Promise<DeadLetter[]>;
  /**
   * Revokes a task id: a waiting message with that id is removed and never delivered, and one
   * published later with it is dropped too. `terminate` asks workers running it to stop it. Brokers
   * remember the newest `maxRevocations` (an option of each; {@link DEFAULT_MAX_REVOCATIONS}).
   */
  revoke(taskId: string, options?: { terminate?: boolean }): Promise<void>;
  /** True when `taskId` was revoked. */
  isRevoked(taskId: string): Promise<boolean>;
  /** Revocations recorded after `afterSeq` (0 for all), oldest first. */
  revocations(afterSeq: number): Promise<Revocation[]>;
  /** Depth of each queue that holds or held a message. */
  stats(): Promise<QueueStats[]>;
  /** Records a worker's report (replacing its previous one). */
  heartbeat(info: WorkerInfo): Promise<void>;
  /** Workers heard from within `withinMs`. */
  workers(withinMs: number): Promise<WorkerInfo[]>;
  /** Forgets a worker (it shut down). */
  removeWorker(id: string): Promise<void>;
  /**
   * Takes or renews a named lock for `ttlMs`: true when `owner` holds it afterwards. A lock whose
   * ttl passed is free. The beat scheduler leads through this.
   */
  acquireLock(name: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Gives a lock up if `owner` holds it. */
  releaseLock(name: string, owner: string): Promise<void>;
  /**
   * Records that a named event (a beat tick) happened, once: true for the first caller with this
   * key, false for every later one. The beat uses it so a tick is published once even when two
   * schedulers both think they lead (a lock lost during a long pause).
   */
  claimOnce(key: string, ttlMs: number): Promise<boolean>;
  /** Closes connections and files; pending `reserve` calls return empty. */
  close(): Promise<void>;
}
