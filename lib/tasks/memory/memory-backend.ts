/**
 * The in-process result backend: for tests and single-process apps. `waitFor` is told about a
 * ready state the moment it is stored, so nothing polls.
 *
 * Metas are kept as JSON text, as a real backend keeps them: a caller that mutates what it stored
 * or what it read changes nothing here.
 *
 * @module
 */
import { BrokerUnavailable } from "../../errors.js";
import type { ResultBackend, TaskMeta } from "../result-backend.js";
import { isReady, type TaskState } from "../states.js";
import { encodeMeta } from "../broker-support/meta-codec.js";

/** Options of {@link MemoryResultBackend}. */
export interface MemoryResultBackendOptions {
  /** The clock (epoch ms) used for `updatedAt` when a meta has none. */
  now?: () => number;
}

interface Stored {
  state: TaskState;
  updatedAt: number;
  /** Store order: breaks `updatedAt` ties in `recent`. */
  rev: number;
  body: string;
}

/**
 * The in-process {@link ResultBackend}.
 *
 * @example
 * const backend = new MemoryResultBackend();
 * await backend.store({ taskId, state: "SUCCESS", result: 5 });
 * const meta = await backend.waitFor(taskId, { timeoutMs: 1000 });
 */
export class MemoryResultBackend implements ResultBackend {
  private readonly now: () => number;
  private readonly metas = new Map<string, Stored>();
  private readonly groups = new Map<string, string[]>();
  private readonly finished = new Map<string, Set<string>>();
  private readonly waiters = new Map<string, Set<(meta: TaskMeta | undefined) => void>>();
  private rev = 0;
  private closed = false;

  constructor(options: MemoryResultBackendOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  async store(meta: TaskMeta): Promise<void> {
    const { body, updatedAt } = encodeMeta(meta, this.now);
    this.checkOpen();
    const previous = this.metas.get(meta.taskId);
    // A late STARTED or RETRY from a duplicate delivery must not hide the SUCCESS already stored.
    if (previous && isReady(previous.state) && !isReady(meta.state)) return;
    this.metas.set(meta.taskId, { state: meta.state, updatedAt, rev: ++this.rev, body });
    if (isReady(meta.state)) {
      const waiters = this.waiters.get(meta.taskId);
      if (waiters) {
        this.waiters.delete(meta.taskId);
        for (const notify of waiters) notify(JSON.parse(body) as TaskMeta);
      }
    }
  }

  async get(taskId: string): Promise<TaskMeta | undefined> {
    const stored = this.metas.get(taskId);
    return stored ? (JSON.parse(stored.body) as TaskMeta) : undefined;
  }

  async getMany(taskIds: readonly string[]): Promise<(TaskMeta | undefined)[]> {
    return taskIds.map((id) => {
      const stored = this.metas.get(id);
      return stored ? (JSON.parse(stored.body) as TaskMeta) : undefined;
    });
  }

  async waitFor(taskId: string, options: { timeoutMs: number; signal?: AbortSignal }): Promise<TaskMeta | undefined> {
    const stored = this.metas.get(taskId);
    if (stored && isReady(stored.state)) return JSON.parse(stored.body) as TaskMeta;
    if (this.closed || options.signal?.aborted || !(options.timeoutMs > 0)) return undefined;
    return new Promise((resolve) => {
      const signal = options.signal;
      const finish = (meta: TaskMeta | undefined): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        const set = this.waiters.get(taskId);
        set?.delete(finish);
        if (set?.size === 0) this.waiters.delete(taskId);
        resolve(meta);
      };
      const onAbort = (): void => finish(undefined);
      const timer = setTimeout(onAbort, Math.min(options.timeoutMs, 2 ** 31 - 1));
      signal?.addEventListener("abort", onAbort);
      let set = this.waiters.get(taskId);
      if (!set) this.waiters.set(taskId, (set = new Set()));
      set.add(finish);
    });
  }

  async saveGroup(groupId: string, memberIds: readonly string[]): Promise<void> {
    this.checkOpen();
    this.groups.set(groupId, [...memberIds]);
  }

  async getGroup(groupId: string): Promise<string[] | undefined> {
    const members = this.groups.get(groupId);
    return members ? [...members] : undefined;
  }

  async markGroupMember(groupId: string, memberId: string): Promise<{ done: number; first: boolean }> {
    this.checkOpen();
    let done = this.finished.get(groupId);
    if (!done) this.finished.set(groupId, (done = new Set()));
    const first = !done.has(memberId);
    done.add(memberId);
    return { done: done.size, first };
  }

  async recent(options: { state?: TaskState; limit: number }): Promise<TaskMeta[]> {
    const matching = [...this.metas.values()].filter((s) => options.state === undefined || s.state === options.state);
    matching.sort((a, b) => b.updatedAt - a.updatedAt || b.rev - a.rev);
    return matching.slice(0, Math.max(0, options.limit)).map((s) => JSON.parse(s.body) as TaskMeta);
  }

  async forget(taskId: string): Promise<void> {
    this.metas.delete(taskId);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const [, set] of this.waiters) for (const notify of [...set]) notify(undefined);
    this.waiters.clear();
  }

  private checkOpen(): void {
    if (this.closed) throw new BrokerUnavailable("memory://", "the result backend was closed");
  }
}
