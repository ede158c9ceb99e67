/**
 * Group commit for one SQLite connection. The writes a worker makes in one turn of the event loop
 * (64 tasks finishing: 64 result stores, 64 acks) are run in one `BEGIN IMMEDIATE` transaction at
 * the next `setImmediate`, instead of 128 transactions of their own. A commit is the expensive part
 * of a small write (the WAL append and the write lock, which publisher and worker processes take in
 * turn), so this is what lets one worker process pass thousands of tasks a second.
 *
 * Each operation still gets its own outcome: one that throws (a bad argument) fails alone, unless
 * its failure ended the transaction (disk full, I/O error), which fails the whole batch.
 *
 * @module
 */
import type Database from "better-sqlite3";

interface Pending {
  op: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** The longest pause (ms) between two tries for the write lock. */
const MAX_LOCK_RETRY_MS = 20;

/**
 * Batches the writes of one connection into one transaction per event-loop turn.
 *
 * The write lock is asked for without SQLite's busy handler, which would sleep inside the call and
 * freeze the event loop (every task of the process) while another process commits. When the lock
 * is taken, the batch waits on a timer instead, growing meanwhile, and fails with SQLITE_BUSY only
 * once `busyTimeoutMs` passed.
 */
export class WriteQueue {
  private pending: Pending[] = [];
  /** The pending flush: the next turn's, or a retry for the write lock (cleared with their own functions). */
  private scheduled: { immediate: NodeJS.Immediate } | { timeout: NodeJS.Timeout } | undefined;
  /** When the current batch first found the lock taken (performance.now()), or undefined. */
  private busySince: number | undefined;
  private retryDelay = 0;
  private readonly begin: Database.Statement;
  private readonly commit: Database.Statement;
  private readonly rollback: Database.Statement;

  /**
   * @param db the connection
   * @param busyTimeoutMs how long a batch may wait for the write lock
   * @param mapError turns a failure of the batch (the write lock not obtained, a damaged file) into
   *   what callers see (a `BrokerUnavailable`)
   * @param afterCommit called after each batch committed (in-process wake-ups)
   */
  constructor(
    private readonly db: Database.Database,
    private readonly busyTimeoutMs: number,
    private readonly mapError: (error: unknown) => unknown,
    private readonly afterCommit: () => void = () => undefined,
  ) {
    this.begin = db.prepare("BEGIN IMMEDIATE");
    this.commit = db.prepare("COMMIT");
    this.rollback = db.prepare("ROLLBACK");
  }

  /** Runs `op` inside the next batch's transaction; resolves with its return value. */
  run<T>(op: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ op, resolve: resolve as (value: unknown) => void, reject });
      this.scheduled ??= { immediate: setImmediate(() => this.flush()) };
    });
  }

  /**
   * Runs what is pending now. `final` (before the connection closes) waits for the lock with
   * SQLite's own busy handler rather than a timer.
   */
  flush(final = false): void {
    // clearImmediate on a Timeout (or the reverse) corrupts Node's immediate counts: each its own.
    if (this.scheduled !== undefined && "immediate" in this.scheduled) clearImmediate(this.scheduled.immediate);
    if (this.scheduled !== undefined && "timeout" in this.scheduled) clearTimeout(this.scheduled.timeout);
    this.scheduled = undefined;
    const batch = this.pending;
    if (batch.length === 0) return;
    if (!this.lock(final)) return;
    this.pending = [];
    const outcomes: { ok: boolean; value: unknown }[] = [];
    try {
      for (const item of batch) {
        try {
          outcomes.push({ ok: true, value: item.op() });
        } catch (error) {
          // SQLite rolled the transaction back (disk full, I/O error): nothing of the batch stands.
          if (!this.db.inTransaction) throw error;
          outcomes.push({ ok: false, value: error });
        }
      }
      this.commit.run();
    } catch (error) {
      if (this.db.inTransaction) this.rollback.run();
      const mapped = this.mapError(error);
      for (const item of batch) item.reject(mapped);
      return;
    }
    batch.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(this.mapError(outcome.value));
    });
    this.afterCommit();
  }

  /** Takes the write lock; false when it is busy and a retry was scheduled (or the batch failed). */
  private lock(final: boolean): boolean {
    try {
      if (final) {
        this.begin.run();
      } else {
        this.db.pragma("busy_timeout = 0");
        try {
          this.begin.run();
        } finally {
          this.db.pragma(`busy_timeout = ${this.busyTimeoutMs}`);
        }
      }
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      const busy = typeof code === "string" && code.startsWith("SQLITE_BUSY");
      const now = performance.now();
      this.busySince ??= now;
      if (final || !busy || now - this.busySince >= this.busyTimeoutMs) {
        const batch = this.pending;
        this.pending = [];
        this.busySince = undefined;
        this.retryDelay = 0;
        const mapped = this.mapError(error);
        for (const item of batch) item.reject(mapped);
        return false;
      }
      this.retryDelay = Math.min(MAX_LOCK_RETRY_MS, Math.max(1, this.retryDelay * 2));
      this.scheduled = { timeout: setTimeout(() => this.flush(), this.retryDelay) };
      return false;
    }
    this.busySince = undefined;
    this.retryDelay = 0;
    return true;
  }
}
