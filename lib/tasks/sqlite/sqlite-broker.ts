/**
 * The SQLite broker: the embedded default. One file, shared by every worker and publisher process
 * on the machine, durable across restarts, no server to install.
 *
 * A `reserve` leases inside one `BEGIN IMMEDIATE` transaction (select the due rows, stamp them with
 * a lease), so two processes never lease one message at once: SQLite gives the write lock to one
 * of them at a time. A lease is `available_at` pushed into the future, so a lapsed lease is simply
 * due again. Revoked ids live in their own table: a revoke deletes the waiting messages of the id
 * and later publishes of it are dropped by the insert itself.
 *
 * Every write (the leases of a `reserve` included) goes through a {@link WriteQueue}: what one process
 * writes in one event-loop turn is committed in one transaction, and waiting for another process's
 * write lock happens on a timer, not inside SQLite's busy handler, so the event loop keeps turning.
 * That is what carries one worker process past 3,000 tasks/s (issue 8).
 *
 * Processes cannot wake each other through the file, so a waiting `reserve` polls (see `poll.ts`).
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import type Database from "better-sqlite3";
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
import { clampPriority, TopN } from "../broker-support/delivery-order.js";
import { decodeMessage, dueAt, encodeMessage } from "../broker-support/message-codec.js";
import { BrokerUnavailable } from "../../errors.js";
import type { TaskMessage } from "../message.js";
import { openTaskDatabase, unavailable, type OpenedDatabase, type SqliteOpenOptions, type SqliteSource } from "./open-database.js";
import { FIRST_POLL_MS, nextPollDelay, sqliteWakeups } from "./poll.js";
import { WriteQueue } from "./write-queue.js";

/** Options of {@link SqliteBroker}: the file (a path or an open connection) and how to use it. */
export type SqliteBrokerOptions = SqliteSource &
  SqliteOpenOptions & {
    /** The clock (epoch ms). Tests pass a fake one; processes sharing a file must use the real one. */
    now?: () => number;
    /** Revocations remembered, oldest forgotten first; default {@link DEFAULT_MAX_REVOCATIONS}. */
    maxRevocations?: number;
  };

interface DueRow {
  seq: number;
  id: string;
  priority: number;
  availableAt: number;
  deliveries: number;
  body: string;
}

/** A statement with positional parameters. */
type Stmt = Database.Statement<unknown[]>;

/**
 * The SQLite {@link Broker}.
 *
 * Lease tokens are `<seq>.<random>`: the row is found by its key, and a made-up token matches
 * nothing. A token stays valid until another `reserve` takes the message, as in the memory broker.
 *
 * @example
 * const broker = new SqliteBroker({ path: "tasks.db" });
 * await broker.publish(message);
 */
export class SqliteBroker implements Broker {
  private readonly opened: OpenedDatabase;
  private readonly db: Database.Database;
  private readonly now: () => number;
  private readonly nonce = randomBytes(9).toString("base64url");
  private readonly knownQueues = new Set<string>();
  private readonly closing = new AbortController();
  private leaseCounter = 0;
  private closed = false;

  private readonly s: Record<
    | "insert"
    | "insertQueue"
    | "due"
    | "anyDue"
    | "revoked"
    | "lease"
    | "deleteSeq"
    | "ack"
    | "extend"
    | "release"
    | "replace"
    | "leased"
    | "deadInsert"
    | "deadList"
    | "revokeInsert"
    | "revokeDelete"
    | "revokeTrim"
    | "revocations"
    | "stats"
    | "deadStats"
    | "queues"
    | "heartbeat"
    | "workers"
    | "removeWorker"
    | "lock"
    | "unlock"
    | "claim"
    | "sweepClaims",
    Stmt
  >;
  private readonly writes: WriteQueue;
  private readonly maxRevocations: number;

  constructor(options: SqliteBrokerOptions) {
    this.opened = openTaskDatabase(options, options);
    this.db = this.opened.db;
    this.now = options.now ?? Date.now;
    this.maxRevocations = options.maxRevocations ?? DEFAULT_MAX_REVOCATIONS;
    const db = this.db;
    const p = (sql: string): Stmt => db.prepare(sql);
    this.s = {
      insert: p(
        `INSERT INTO messages (id, queue, priority, available_at, body)
         SELECT ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM revocations WHERE task_id = ?)`,
      ),
      insertQueue: p("INSERT OR IGNORE INTO queues (name) VALUES (?)"),
      due: p(
        `SELECT seq, id, priority, available_at AS availableAt, deliveries, body FROM messages
         WHERE queue = ? AND available_at <= ? ORDER BY priority DESC, available_at, seq LIMIT ?`,
      ),
      anyDue: p("SELECT 1 FROM messages WHERE queue = ? AND available_at <= ? LIMIT 1"),
      revoked: p("SELECT 1 FROM revocations WHERE task_id = ? LIMIT 1"),
      lease: p("UPDATE messages SET lease_id = ?, consumer = ?, available_at = ?, deliveries = deliveries + 1 WHERE seq = ?"),
      deleteSeq: p("DELETE FROM messages WHERE seq = ?"),
      ack: p("DELETE FROM messages WHERE seq = ? AND lease_id = ?"),
      extend: p("UPDATE messages SET available_at = ? WHERE seq = ? AND lease_id = ?"),
      release: p("UPDATE messages SET lease_id = NULL, consumer = NULL, available_at = ? WHERE seq = ? AND lease_id = ?"),
      replace: p(
        `UPDATE messages SET lease_id = NULL, consumer = NULL, available_at = ?, id = ?, queue = ?, priority = ?,
         body = ?, deliveries = 0 WHERE seq = ? AND lease_id = ?`,
      ),
      leased: p("SELECT queue, body FROM messages WHERE seq = ? AND lease_id = ?"),
      deadInsert: p("INSERT INTO dead_letters (queue, id, reason, at, body) VALUES (?, ?, ?, ?, ?)"),
      deadList: p("SELECT body, reason, at FROM dead_letters ORDER BY seq DESC LIMIT ?"),
      revokeInsert: p("INSERT INTO revocations (task_id, terminate) VALUES (?, ?)"),
      // A message leased now stays until its worker acks it (the worker sees the revocation and
      // records REVOKED); a lapsed one is deleted here, and `reserve` drops any that lapse later.
      revokeDelete: p("DELETE FROM messages WHERE id = ? AND (lease_id IS NULL OR available_at <= ?)"),
      // seq is AUTOINCREMENT, one per revocation: everything `max` or more behind the newest goes. An
      // id revoked again keeps its newer row, so it stays revoked.
      revokeTrim: p("DELETE FROM revocations WHERE seq <= ?"),
      revocations: p("SELECT seq, task_id AS taskId, terminate FROM revocations WHERE seq > ? ORDER BY seq"),
      stats: p(
        `SELECT queue, SUM(available_at <= ?) AS ready,
                SUM(available_at > ? AND lease_id IS NULL) AS delayed,
                SUM(available_at > ? AND lease_id IS NOT NULL) AS leased
         FROM messages GROUP BY queue`,
      ),
      deadStats: p("SELECT queue, COUNT(*) AS dead FROM dead_letters GROUP BY queue"),
      queues: p("SELECT name FROM queues"),
      heartbeat: p("INSERT OR REPLACE INTO workers (id, seen_at, body) VALUES (?, ?, ?)"),
      workers: p("SELECT body FROM workers WHERE seen_at >= ? ORDER BY id"),
      removeWorker: p("DELETE FROM workers WHERE id = ?"),
      lock: p(
        `INSERT INTO locks (name, owner, expires_at) VALUES (?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
         WHERE locks.owner = excluded.owner OR locks.expires_at <= ?`,
      ),
      unlock: p("DELETE FROM locks WHERE name = ? AND owner = ?"),
      claim: p(
        `INSERT INTO claims (key, expires_at) VALUES (?, ?)
         ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE claims.expires_at <= ?`,
      ),
      sweepClaims: p("DELETE FROM claims WHERE expires_at <= ?"),
    };
    this.writes = new WriteQueue(
      db,
      this.opened.busyTimeoutMs,
      (error) => {
        // A failed batch rolled back its queue names too: forget which ones this instance wrote.
        this.knownQueues.clear();
        return unavailable(error, this.opened.name, this.opened.busyTimeoutMs);
      },
      () => {
        if (sqliteWakeups.has(this.wakeKey)) sqliteWakeups.wake(this.wakeKey);
      },
    );
  }

  /** The file this broker uses (absolute path). */
  get file(): string {
    return this.opened.name;
  }

  async publish(message: TaskMessage): Promise<void> {
    await this.publishMany([message]);
  }

  async publishMany(messages: readonly TaskMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const bodies = messages.map(encodeMessage);
    const now = this.now();
    // All in one transaction (the write queue's): one bad batch publishes nothing.
    await this.write(() => {
      for (let i = 0; i < messages.length; i++) {
        const message = messages[i]!;
        if (!this.knownQueues.has(message.queue)) {
          this.s.insertQueue.run(message.queue);
          this.knownQueues.add(message.queue);
        }
        this.s.insert.run(message.id, message.queue, clampPriority(message.priority), dueAt(message, now), bodies[i], message.id);
      }
    });
  }

  async reserve(options: ReserveOptions): Promise<Delivery[]> {
    const max = Math.max(0, Math.trunc(options.max));
    if (max === 0 || options.queues.length === 0) return [];
    const deadline = performance.now() + Math.max(0, options.waitMs ?? 0);
    let delay = FIRST_POLL_MS;
    let first = true;
    for (;;) {
      if (this.closed || options.signal?.aborted) return [];
      // After a miss, look without the write lock first: an idle worker polling the file must not
      // make publishers queue for the lock twenty times a second.
      if (first || this.read(() => this.anyDue(options.queues))) {
        const vt = Math.max(0, options.visibilityTimeoutMs);
        // The lease is taken in the write queue's IMMEDIATE transaction (with this turn's acks).
        const deliveries = await this.write(() => {
          const now = this.now();
          return this.lease(options.queues, max, now, now + vt, options.consumer);
        });
        if (deliveries.length > 0) {
          // Aborted while the batch ran: give the leases straight back rather than hide them for a visibility timeout.
          if (!options.signal?.aborted) return deliveries;
          await Promise.all(deliveries.map((d) => this.release(d)));
          return [];
        }
      }
      first = false;
      const remaining = deadline - performance.now();
      if (remaining <= 0) return [];
      await sqliteWakeups.sleep(this.wakeKey, Math.min(delay, remaining), [options.signal, this.closing.signal]);
      delay = nextPollDelay(delay);
    }
  }

  async extend(delivery: Delivery, visibilityTimeoutMs: number): Promise<boolean> {
    const seq = this.seqOf(delivery);
    if (seq === undefined) return false;
    const until = this.now() + Math.max(0, visibilityTimeoutMs);
    return this.write(() => this.s.extend.run(until, seq, delivery.leaseId).changes === 1);
  }

  async ack(delivery: Delivery): Promise<boolean> {
    const seq = this.seqOf(delivery);
    if (seq === undefined) return false;
    return this.write(() => this.s.ack.run(seq, delivery.leaseId).changes === 1);
  }

  async release(delivery: Delivery, options: ReleaseOptions = {}): Promise<boolean> {
    const seq = this.seqOf(delivery);
    if (seq === undefined) return false;
    const availableAt = this.now() + Math.max(0, options.delayMs ?? 0);
    const replacement = options.message;
    if (!replacement) return this.write(() => this.s.release.run(availableAt, seq, delivery.leaseId).changes === 1);
    const body = encodeMessage(replacement);
    return this.write(() => {
      // A replacement of a revoked id is dropped, as its publish would be.
      if (this.s.revoked.get(replacement.id) !== undefined) return this.s.ack.run(seq, delivery.leaseId).changes === 1;
      this.s.insertQueue.run(replacement.queue);
      // A replacement is a new message (a retry): its deliveries count from zero again.
      const args = [availableAt, replacement.id, replacement.queue, clampPriority(replacement.priority), body];
      return this.s.replace.run(...args, seq, delivery.leaseId).changes === 1;
    });
  }

  async deadLetter(delivery: Delivery, reason: string): Promise<boolean> {
    const seq = this.seqOf(delivery);
    if (seq === undefined) return false;
    const at = this.now();
    return this.write(() => {
      const row = this.s.leased.get(seq, delivery.leaseId) as { queue: string; body: string } | undefined;
      if (!row) return false;
      this.s.deadInsert.run(row.queue, delivery.message.id, String(reason), at, row.body);
      this.s.deleteSeq.run(seq);
      return true;
    });
  }

  async deadLetters(limit: number): Promise<DeadLetter[]> {
    const rows = this.read(() => this.s.deadList.all(Math.max(0, Math.trunc(limit))) as { body: string; reason: string; at: number }[]);
    return rows.map((row) => ({ message: decodeMessage(row.body), reason: row.reason, at: row.at }));
  }

  async revoke(taskId: string, options: { terminate?: boolean } = {}): Promise<void> {
    const now = this.now();
    await this.write(() => {
      const { lastInsertRowid } = this.s.revokeInsert.run(String(taskId), options.terminate === true ? 1 : 0);
      this.s.revokeDelete.run(String(taskId), now);
      const oldestKept = Number(lastInsertRowid) - this.maxRevocations + 1;
      if (oldestKept > 1) this.s.revokeTrim.run(oldestKept - 1);
    });
  }

  async isRevoked(taskId: string): Promise<boolean> {
    return this.read(() => this.s.revoked.get(String(taskId)) !== undefined);
  }

  async revocations(afterSeq: number): Promise<Revocation[]> {
    const rows = this.read(() => this.s.revocations.all(Number(afterSeq) || 0) as { seq: number; taskId: string; terminate: number }[]);
    return rows.map((row) => ({ seq: row.seq, taskId: row.taskId, terminate: row.terminate === 1 }));
  }

  async stats(): Promise<QueueStats[]> {
    const now = this.now();
    return this.read(() =>
      this.db
        .transaction(() => {
          const byQueue = new Map<string, QueueStats>();
          const row = (queue: string): QueueStats => {
            let stats = byQueue.get(queue);
            if (!stats) byQueue.set(queue, (stats = { queue, ready: 0, delayed: 0, leased: 0, dead: 0 }));
            return stats;
          };
          for (const { name } of this.s.queues.all() as { name: string }[]) row(name);
          for (const r of this.s.stats.all(now, now, now) as { queue: string; ready: number; delayed: number; leased: number }[]) {
            Object.assign(row(r.queue), { ready: r.ready, delayed: r.delayed, leased: r.leased });
          }
          for (const r of this.s.deadStats.all() as { queue: string; dead: number }[]) row(r.queue).dead = r.dead;
          return [...byQueue.values()].sort((a, b) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : 0));
        })
        .deferred(),
    );
  }

  async heartbeat(info: WorkerInfo): Promise<void> {
    const body = JSON.stringify(info);
    await this.write(() => this.s.heartbeat.run(String(info.id), info.seenAt, body));
  }

  async workers(withinMs: number): Promise<WorkerInfo[]> {
    const rows = this.read(() => this.s.workers.all(this.now() - withinMs) as { body: string }[]);
    return rows.map((row) => JSON.parse(row.body) as WorkerInfo);
  }

  async removeWorker(id: string): Promise<void> {
    await this.write(() => this.s.removeWorker.run(String(id)));
  }

  async acquireLock(name: string, owner: string, ttlMs: number): Promise<boolean> {
    const now = this.now();
    return this.write(() => this.s.lock.run(String(name), String(owner), now + ttlMs, now).changes === 1);
  }

  async releaseLock(name: string, owner: string): Promise<void> {
    await this.write(() => this.s.unlock.run(String(name), String(owner)));
  }

  async claimOnce(key: string, ttlMs: number): Promise<boolean> {
    const now = this.now();
    return this.write(() => {
      const won = this.s.claim.run(String(key), now + ttlMs, now).changes === 1;
      // Claims are rare (one per beat tick): sweeping the expired ones here keeps the table small.
      if (won) this.s.sweepClaims.run(now);
      return won;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // What was written before close is committed, not dropped.
    this.writes.flush(true);
    this.closed = true;
    this.closing.abort();
    if (this.opened.owned && this.db.open) this.db.close();
  }

  // --- internals -------------------------------------------------------------------------------

  private get wakeKey(): string {
    return `broker\0${this.opened.name}`;
  }

  /** Runs a read now, turning "this file cannot be used" into BrokerUnavailable. */
  private read<T>(fn: () => T): T {
    if (this.closed) throw new BrokerUnavailable(this.opened.name, "the broker was closed");
    try {
      return fn();
    } catch (error) {
      throw unavailable(error, this.opened.name, this.opened.busyTimeoutMs);
    }
  }

  /** Queues a write for this turn's transaction. */
  private write<T>(op: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new BrokerUnavailable(this.opened.name, "the broker was closed"));
    return this.writes.run(op);
  }

  /** The row key in a lease token, or undefined for a token this broker never made. */
  private seqOf(delivery: Delivery): number | undefined {
    if (this.closed) return undefined;
    const leaseId = delivery?.leaseId;
    if (typeof leaseId !== "string") return undefined;
    const dot = leaseId.indexOf(".");
    if (dot <= 0) return undefined;
    const seq = Number(leaseId.slice(0, dot));
    return Number.isSafeInteger(seq) && seq > 0 ? seq : undefined;
  }

  private anyDue(queues: readonly string[]): boolean {
    const now = this.now();
    for (const queue of queues) if (this.s.anyDue.get(queue, now) !== undefined) return true;
    return false;
  }

  /** Inside the IMMEDIATE transaction: picks the due rows in delivery order and stamps their lease. */
  private lease(queues: readonly string[], max: number, now: number, until: number, consumer: string): Delivery[] {
    for (;;) {
      let rows: DueRow[];
      if (queues.length === 1) {
        rows = this.s.due.all(queues[0], now, max) as DueRow[];
      } else {
        // One indexed query per queue, merged: `queue IN (...)` would make SQLite sort everything due.
        const top = new TopN<DueRow>(max);
        for (const queue of new Set(queues)) for (const row of this.s.due.all(queue, now, max) as DueRow[]) top.offer(row);
        rows = top.items;
      }
      const deliveries: Delivery[] = [];
      let dropped = false;
      for (const row of rows) {
        if (this.s.revoked.get(row.id) !== undefined) {
          // Revoked while leased, and that lease lapsed: dropped, never delivered again.
          this.s.deleteSeq.run(row.seq);
          dropped = true;
          continue;
        }
        const leaseId = `${row.seq}.${this.nonce}${(++this.leaseCounter).toString(36)}`;
        this.s.lease.run(leaseId, consumer, until, row.seq);
        deliveries.push({ message: decodeMessage(row.body), leaseId, deliveries: row.deliveries + 1 });
      }
      // Only revoked rows were found: look again, so they do not hide the due messages behind them.
      if (!dropped || deliveries.length > 0) return deliveries;
    }
  }
}
