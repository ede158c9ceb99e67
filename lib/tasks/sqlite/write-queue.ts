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

/** Batches the writes of one connection into one transaction per event-loop turn. */
export class WriteQueue {
  private pending: Pending[] = [];
  private scheduled: NodeJS.Immediate | undefined;

  /**
   * @param db the connection
   * @param mapError turns a failure of the batch (the write lock not obtained, a damaged file) into
   *   what callers see (a `BrokerUnavailable`)
   * @param afterCommit called after each batch committed (in-process wake-ups)
   */
  constructor(
    private readonly db: Database.Database,
    private readonly mapError: (error: unknown) => unknown,
    private readonly afterCommit: () => void = () => undefined,
  ) {}

  /** Runs `op` inside the next batch's transaction; resolves with its return value. */
  run<T>(op: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ op, resolve: resolve as (value: unknown) => void, reject });
      this.scheduled ??= setImmediate(() => this.flush());
    });
  }

  /** Runs what is pending now (also called before the connection closes). */
  flush(): void {
    if (this.scheduled !== undefined) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    const outcomes: { ok: boolean; value: unknown }[] = [];
    try {
      this.db
        .transaction(() => {
          for (const item of batch) {
            try {
              outcomes.push({ ok: true, value: item.op() });
            } catch (error) {
              // SQLite rolled the transaction back (disk full, I/O error): nothing of the batch stands.
              if (!this.db.inTransaction) throw error;
              outcomes.push({ ok: false, value: error });
            }
          }
        })
        .immediate();
    } catch (error) {
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
}
