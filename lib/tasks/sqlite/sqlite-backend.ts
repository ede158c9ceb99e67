/**
 * The SQLite result backend: task states in the same kind of file as the SQLite broker (it can be
 * the very same file). "A non-ready state never replaces a ready one" is one statement, so two
 * processes storing for one task at once cannot interleave a read and a write.
 *
 * `waitFor` polls the file (processes cannot wake each other); a store from this same process
 * wakes it at once.
 *
 * @module
 */
import type Database from "better-sqlite3";
import { BrokerUnavailable } from "../../errors.js";
import type { ResultBackend, TaskMeta } from "../result-backend.js";
import { isReady, type TaskState } from "../states.js";
import { encodeMeta } from "../broker-support/meta-codec.js";
import { openTaskDatabase, unavailable, type OpenedDatabase, type SqliteOpenOptions, type SqliteSource } from "./open-database.js";
import { FIRST_POLL_MS, nextPollDelay, sqliteWakeups } from "./poll.js";
import { WriteQueue } from "./write-queue.js";

/** Options of {@link SqliteResultBackend}: the file (a path or an open connection) and how to use it. */
export type SqliteResultBackendOptions = SqliteSource &
  SqliteOpenOptions & {
    /** The clock (epoch ms) used for `updatedAt` when a meta has none. */
    now?: () => number;
  };

type Stmt = Database.Statement<unknown[]>;

/**
 * The SQLite {@link ResultBackend}.
 *
 * @example
 * const backend = new SqliteResultBackend({ path: "tasks.db" });
 * const meta = await backend.waitFor(taskId, { timeoutMs: 10_000 });
 */
export class SqliteResultBackend implements ResultBackend {
  private readonly opened: OpenedDatabase;
  private readonly db: Database.Database;
  private readonly now: () => number;
  private readonly closing = new AbortController();
  private closed = false;
  private readonly s: Record<
    "store" | "get" | "recent" | "recentByState" | "forget" | "saveGroup" | "getGroup" | "markMember" | "countMembers",
    Stmt
  >;
  private readonly getManyTx: Database.Transaction<(ids: readonly string[]) => (string | undefined)[]>;
  private readonly writes: WriteQueue;

  constructor(options: SqliteResultBackendOptions) {
    this.opened = openTaskDatabase(options, options);
    this.db = this.opened.db;
    this.now = options.now ?? Date.now;
    const p = (sql: string): Stmt => this.db.prepare(sql);
    this.s = {
      // REPLACE gives the row a new rowid, so `recent` breaks updatedAt ties by store order.
      store: p(
        `INSERT OR REPLACE INTO results (task_id, state, ready, updated_at, body)
         SELECT ?, ?, ?, ?, ?
         WHERE ? = 1 OR NOT EXISTS (SELECT 1 FROM results WHERE task_id = ? AND ready = 1)`,
      ),
      get: p("SELECT body FROM results WHERE task_id = ?"),
      recent: p("SELECT body FROM results ORDER BY updated_at DESC, rowid DESC LIMIT ?"),
      recentByState: p("SELECT body FROM results WHERE state = ? ORDER BY updated_at DESC, rowid DESC LIMIT ?"),
      forget: p("DELETE FROM results WHERE task_id = ?"),
      saveGroup: p("INSERT OR REPLACE INTO task_groups (group_id, members) VALUES (?, ?)"),
      getGroup: p("SELECT members FROM task_groups WHERE group_id = ?"),
      markMember: p("INSERT OR IGNORE INTO group_done (group_id, member_id) VALUES (?, ?)"),
      countMembers: p("SELECT COUNT(*) FROM group_done WHERE group_id = ?"),
    };
    this.s.get.pluck();
    this.s.recent.pluck();
    this.s.recentByState.pluck();
    this.s.getGroup.pluck();
    this.s.countMembers.pluck();
    this.getManyTx = this.db.transaction((ids: readonly string[]) => ids.map((id) => this.s.get.get(String(id)) as string | undefined));
    this.writes = new WriteQueue(this.db, this.opened.busyTimeoutMs, (error) => unavailable(error, this.opened.name, this.opened.busyTimeoutMs));
  }

  /** The file this backend uses (absolute path). */
  get file(): string {
    return this.opened.name;
  }

  async store(meta: TaskMeta): Promise<void> {
    const { body, updatedAt } = encodeMeta(meta, this.now);
    const ready = isReady(meta.state);
    const taskId = String(meta.taskId);
    // Group commit: the results stored in one event-loop turn share one transaction (see write-queue.ts).
    await this.write(() => this.s.store.run(taskId, meta.state, ready ? 1 : 0, updatedAt, body, ready ? 1 : 0, taskId));
    if (ready) {
      const key = this.waitKey(meta.taskId);
      if (sqliteWakeups.has(key)) sqliteWakeups.wake(key);
    }
  }

  async get(taskId: string): Promise<TaskMeta | undefined> {
    const body = this.guard(() => this.s.get.get(String(taskId)) as string | undefined);
    return body === undefined ? undefined : (JSON.parse(body) as TaskMeta);
  }

  async getMany(taskIds: readonly string[]): Promise<(TaskMeta | undefined)[]> {
    if (taskIds.length === 0) return [];
    const bodies = this.guard(() => this.getManyTx.deferred(taskIds));
    return bodies.map((body) => (body === undefined ? undefined : (JSON.parse(body) as TaskMeta)));
  }

  async waitFor(taskId: string, options: { timeoutMs: number; signal?: AbortSignal }): Promise<TaskMeta | undefined> {
    const deadline = performance.now() + Math.max(0, options.timeoutMs || 0);
    const key = this.waitKey(taskId);
    let delay = FIRST_POLL_MS;
    for (;;) {
      const meta = await this.get(taskId);
      if (meta && isReady(meta.state)) return meta;
      const remaining = deadline - performance.now();
      if (remaining <= 0 || this.closed || options.signal?.aborted) return undefined;
      await sqliteWakeups.sleep(key, Math.min(delay, remaining), [options.signal, this.closing.signal]);
      if (this.closed || options.signal?.aborted) return undefined;
      delay = nextPollDelay(delay);
    }
  }

  async saveGroup(groupId: string, memberIds: readonly string[]): Promise<void> {
    const members = JSON.stringify(memberIds.map(String));
    await this.write(() => this.s.saveGroup.run(String(groupId), members));
  }

  async getGroup(groupId: string): Promise<string[] | undefined> {
    const members = this.guard(() => this.s.getGroup.get(String(groupId)) as string | undefined);
    return members === undefined ? undefined : (JSON.parse(members) as string[]);
  }

  async markGroupMember(groupId: string, memberId: string): Promise<{ done: number; first: boolean }> {
    // Both statements run in one transaction, so two processes marking members at once each see their own count.
    return this.write(() => {
      const first = this.s.markMember.run(String(groupId), String(memberId)).changes === 1;
      return { done: this.s.countMembers.get(String(groupId)) as number, first };
    });
  }

  async recent(options: { state?: TaskState; limit: number }): Promise<TaskMeta[]> {
    const limit = Math.max(0, Math.trunc(options.limit) || 0);
    const bodies = this.guard(
      () => (options.state === undefined ? this.s.recent.all(limit) : this.s.recentByState.all(options.state, limit)) as string[],
    );
    return bodies.map((body) => JSON.parse(body) as TaskMeta);
  }

  async forget(taskId: string): Promise<void> {
    await this.write(() => this.s.forget.run(String(taskId)));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // What was stored before close is committed, not dropped.
    this.writes.flush(true);
    this.closed = true;
    this.closing.abort();
    if (this.opened.owned && this.db.open) this.db.close();
  }

  private waitKey(taskId: string): string {
    return `result\0${this.opened.name}\0${taskId}`;
  }

  private write<T>(op: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new BrokerUnavailable(this.opened.name, "the result backend was closed"));
    return this.writes.run(op);
  }

  private guard<T>(fn: () => T): T {
    if (this.closed) throw new BrokerUnavailable(this.opened.name, "the result backend was closed");
    try {
      return fn();
    } catch (error) {
      throw unavailable(error, this.opened.name, this.opened.busyTimeoutMs);
    }
  }
}
