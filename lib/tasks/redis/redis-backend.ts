/**
 * The Redis result backend, compatible with Celery's (`celery/backends/redis.py`): a task's state is
 * the JSON meta at `celery-task-meta-<id>` (`../celery/result-meta.ts`), written with SETEX (Celery's
 * `result_expires`, one day by default) and PUBLISHed on a channel of the same name, as Celery's
 * `_set` does, so a Python `AsyncResult.get()` wakes on a laminar store and a laminar `waitFor` wakes
 * on a Python worker's.
 *
 * - "A non-ready state never replaces a ready one" is one Lua script (Celery only guards SUCCESS).
 * - `waitFor` SUBSCRIBEs first and reads the key once after, so a store between the read and the
 *   subscription is not missed.
 * - `saveGroup` writes Celery's `celery-taskset-meta-<gid>` (`{"result": GroupResult.as_tuple()}`, so
 *   Python's `GroupResult.restore` works) and the chord size key `<that>.s` Python workers read in
 *   `on_chord_part_return`. `markGroupMember` counts a chord's members where Python does (Celery 5.2,
 *   `celery/backends/redis.py`): `[1, id, state, result]` added to the sorted set `<that>.j` scored by
 *   the member's `group_index`, the total being `.s` plus `.t`, so a chord whose members run partly on
 *   Python and partly on laminar is completed by whichever side finishes its last member. A set of
 *   laminar's own (`laminar.group-done.<gid>`) makes a redelivered laminar member count once (Celery's
 *   `.j` alone would count a redelivery with another result twice). `getGroup` falls back to the
 *   ids in `.j`, in index order, for a chord Python started (it saves no taskset meta for simple ones).
 * - `recent` reads a sorted set of laminar's own (`laminar.recent`, scored by `updatedAt`, capped).
 *
 * @module
 */
import { Redis } from "ioredis";
import { BrokerUnavailable } from "../../errors.js";
import { encodeMeta } from "../broker-support/meta-codec.js";
import { fromCeleryMeta, toCeleryMeta } from "../celery/result-meta.js";
import type { GroupMark, GroupMemberOutcome, ResultBackend, TaskMeta } from "../result-backend.js";
import { toCeleryException } from "../celery/exception.js";
import { isReady, type TaskState } from "../states.js";
import { LuaScript } from "./lua-script.js";

/** Options of {@link RedisResultBackend}. */
export interface RedisResultBackendOptions {
  /** `redis://[:password@]host[:port][/db]`; default `redis://127.0.0.1:6379/0`. Ignored when `redis` is given. */
  url?: string;
  /** A connection to use instead (left open by `close`); `waitFor` subscribes on a duplicate. */
  redis?: Redis;
  /** Prefixed to every key and channel (Celery 5.3's `global_keyprefix`); default none, as Celery's. */
  prefix?: string;
  /** The clock (epoch ms) for `updatedAt` when a meta has none. */
  now?: () => number;
  /** How long results are kept (Celery's `result_expires`, default one day); 0 keeps them for ever. */
  resultExpiresMs?: number;
  /** At most this many tasks are remembered for `recent` (default 10,000). */
  recentLimit?: number;
}

/** ARGV: prefix, task id, meta JSON, ready (0/1), expires ms (0 = none), updatedAt, recent cap, state. */
const STORE = new LuaScript(`
local P, id, body, ready, px = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local key = P .. 'celery-task-meta-' .. id
if ready == '0' then
  local current = redis.call('GET', key)
  if current then
    local ok, d = pcall(cjson.decode, current)
    if ok and type(d) == 'table' and (d.status == 'SUCCESS' or d.status == 'FAILURE' or d.status == 'REVOKED') then return 0 end
  end
end
if px > 0 then redis.call('SET', key, body, 'PX', px) else redis.call('SET', key, body) end
redis.call('PUBLISH', key, body)
redis.call('ZADD', P .. 'laminar.recent', ARGV[6], id)
local n = redis.call('ZCARD', P .. 'laminar.recent')
local cap = tonumber(ARGV[7])
if n > cap then redis.call('ZREMRANGEBYRANK', P .. 'laminar.recent', 0, n - cap - 1) end
return 1
`);

/**
 * ARGV: prefix, group id, member id, expiry ms, group index, the member's `.j` entry ('' for none).
 * Returns {done, first, size}: size -1 when the group has no `.s` (not a chord: laminar's own count).
 */
const MARK = new LuaScript(`
local key = ARGV[1] .. 'laminar.group-done.' .. ARGV[2]
local first = redis.call('SADD', key, ARGV[3])
local ms = tonumber(ARGV[4])
if ms > 0 then redis.call('PEXPIRE', key, ms) end
local base = ARGV[1] .. 'celery-taskset-meta-' .. ARGV[2]
local size = redis.call('GET', base .. '.s')
if not size then return {redis.call('SCARD', key), first, -1} end
local jkey = base .. '.j'
if first == 1 and ARGV[6] ~= '' then
  redis.call('ZADD', jkey, ARGV[5], ARGV[6])
  if ms > 0 then redis.call('PEXPIRE', jkey, ms) end
end
local total = tonumber(size) + tonumber(redis.call('GET', base .. '.t') or '0')
return {redis.call('ZCOUNT', jkey, '-inf', '+inf'), first, total}
`);

/**
 * A member's entry in Celery's `.j` set, as Python writes it (`encode([1, id, state, result])`, the
 * exception as Celery's dict), so a Python worker completing the chord can unpack it.
 */
function chordEntry(memberId: string, outcome: GroupMemberOutcome): string {
  const value = outcome.state === "SUCCESS" ? (outcome.result ?? null) : toCeleryException(outcome.error ?? { type: "Error", message: outcome.state });
  return JSON.stringify([1, memberId, outcome.state, value]);
}

/**
 * The Redis {@link ResultBackend}, readable and writable by Python Celery.
 *
 * @example
 * const backend = new RedisResultBackend({ url: "redis://127.0.0.1:6379/0" });
 * const meta = await backend.waitFor(taskId, { timeoutMs: 10_000 });
 */
export class RedisResultBackend implements ResultBackend {
  private readonly redis: Redis;
  private readonly owned: boolean;
  private readonly prefix: string;
  private readonly now: () => number;
  private readonly expiresMs: number;
  private readonly recentLimit: number;
  private subscriber: Redis | undefined;
  /** Channel → callbacks waiting on it. */
  private readonly listeners = new Map<string, Set<(body: string) => void>>();
  private readonly closing = new AbortController();
  private closed = false;

  constructor(options: RedisResultBackendOptions = {}) {
    this.owned = options.redis === undefined;
    this.redis = options.redis ?? new Redis(options.url ?? "redis://127.0.0.1:6379/0");
    if (this.owned) this.redis.on("error", () => undefined);
    this.prefix = options.prefix ?? "";
    this.now = options.now ?? Date.now;
    this.expiresMs = Math.max(0, Math.trunc(options.resultExpiresMs ?? 86_400_000));
    this.recentLimit = Math.max(1, Math.trunc(options.recentLimit ?? 10_000));
  }

  async store(meta: TaskMeta): Promise<void> {
    const { updatedAt } = encodeMeta(meta, this.now);
    this.checkOpen();
    const body = JSON.stringify(toCeleryMeta({ ...meta, updatedAt }));
    await STORE.run(this.redis, [this.prefix, meta.taskId, body, isReady(meta.state) ? 1 : 0, this.expiresMs, updatedAt, this.recentLimit, meta.state]);
  }

  async get(taskId: string): Promise<TaskMeta | undefined> {
    this.checkOpen();
    return this.decode(await this.redis.get(this.metaKey(taskId)), taskId);
  }

  async getMany(taskIds: readonly string[]): Promise<(TaskMeta | undefined)[]> {
    if (taskIds.length === 0) return [];
    this.checkOpen();
    const bodies = await this.redis.mget(...taskIds.map((id) => this.metaKey(id)));
    return bodies.map((body, i) => this.decode(body, taskIds[i]!));
  }

  async waitFor(taskId: string, options: { timeoutMs: number; signal?: AbortSignal }): Promise<TaskMeta | undefined> {
    const timeoutMs = Math.max(0, options.timeoutMs || 0);
    if (this.closed || options.signal?.aborted) return undefined;
    // Already ready: answered without subscribing (and however short the timeout).
    const current = await this.get(taskId);
    if (current && isReady(current.state)) return current;
    if (timeoutMs === 0 || options.signal?.aborted) return undefined;
    const channel = this.metaKey(taskId);
    return new Promise<TaskMeta | undefined>((resolve) => {
      let settled = false;
      const finish = (meta: TaskMeta | undefined): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        options.signal?.removeEventListener("abort", abort);
        this.closing.signal.removeEventListener("abort", abort);
        void this.unlisten(channel, onMessage);
        resolve(meta);
      };
      const abort = (): void => finish(undefined);
      const onMessage = (body: string): void => {
        const meta = this.decode(body, taskId);
        if (meta && isReady(meta.state)) finish(meta);
      };
      const timer = setTimeout(abort, timeoutMs);
      options.signal?.addEventListener("abort", abort);
      this.closing.signal.addEventListener("abort", abort);
      // Subscribe, then read once: a store that happened before the subscription is seen by the read.
      this.listen(channel, onMessage)
        .then(() => (settled ? undefined : this.get(taskId)))
        .then((meta) => {
          if (meta && isReady(meta.state)) finish(meta);
        })
        .catch(() => finish(undefined));
    });
  }

  async saveGroup(groupId: string, memberIds: readonly string[]): Promise<void> {
    this.checkOpen();
    const key = `${this.prefix}celery-taskset-meta-${groupId}`;
    // GroupResult.as_tuple(): ((group_id, parent), [child.as_tuple() ...]).
    const body = JSON.stringify({ result: [[groupId, null], memberIds.map((id) => [[String(id), null], null])] });
    const multi = this.redis.multi();
    if (this.expiresMs > 0) multi.set(key, body, "PX", this.expiresMs).set(`${key}.s`, String(memberIds.length), "PX", this.expiresMs);
    else multi.set(key, body).set(`${key}.s`, String(memberIds.length));
    await multi.exec();
  }

  async getGroup(groupId: string): Promise<string[] | undefined> {
    this.checkOpen();
    const key = `${this.prefix}celery-taskset-meta-${groupId}`;
    const body = await this.redis.get(key);
    if (body === null) return this.chordMembers(key);
    const parsed = JSON.parse(body) as { result?: unknown };
    const members = Array.isArray(parsed.result) ? parsed.result[1] : undefined;
    if (!Array.isArray(members)) return undefined;
    return members.map((tuple: unknown) => {
      const head = Array.isArray(tuple) ? tuple[0] : tuple;
      return String(Array.isArray(head) ? head[0] : head);
    });
  }

  async markGroupMember(groupId: string, memberId: string, outcome?: GroupMemberOutcome): Promise<GroupMark> {
    this.checkOpen();
    const entry = outcome === undefined ? "" : chordEntry(memberId, outcome);
    const index = outcome === undefined ? "+inf" : String(outcome.index);
    const [done, first, size] = (await MARK.run(this.redis, [this.prefix, groupId, memberId, this.expiresMs, index, entry])) as [number, number, number];
    const mark: GroupMark = { done: Number(done), first: Number(first) === 1 };
    if (Number(size) >= 0) mark.size = Number(size);
    return mark;
  }

  /** The member ids of Celery's `.j` set, in group-index order (a chord Python started), or undefined. */
  private async chordMembers(tasksetKey: string): Promise<string[] | undefined> {
    const entries = await this.redis.zrange(`${tasksetKey}.j`, 0, -1);
    if (entries.length === 0) return undefined;
    return entries.map((entry) => {
      const tuple = JSON.parse(entry) as unknown;
      return Array.isArray(tuple) ? String(tuple[1]) : "";
    });
  }

  async recent(options: { state?: TaskState; limit: number }): Promise<TaskMeta[]> {
    this.checkOpen();
    const limit = Math.max(0, Math.trunc(options.limit) || 0);
    const out: TaskMeta[] = [];
    const chunk = Math.max(limit, 100);
    for (let start = 0; out.length < limit; start += chunk) {
      const ids = await this.redis.zrevrange(`${this.prefix}laminar.recent`, start, start + chunk - 1);
      if (ids.length === 0) break;
      for (const meta of await this.getMany(ids)) {
        if (meta && (options.state === undefined || meta.state === options.state)) out.push(meta);
        if (out.length >= limit) break;
      }
    }
    return out;
  }

  async forget(taskId: string): Promise<void> {
    this.checkOpen();
    await this.redis.multi().del(this.metaKey(taskId)).zrem(`${this.prefix}laminar.recent`, taskId).exec();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closing.abort();
    this.subscriber?.disconnect();
    if (this.owned) await this.redis.quit().catch(() => undefined);
  }

  // --- internals -------------------------------------------------------------------------------

  private metaKey(taskId: string): string {
    return `${this.prefix}celery-task-meta-${taskId}`;
  }

  private checkOpen(): void {
    if (this.closed) throw new BrokerUnavailable("redis://", "the result backend was closed");
  }

  private decode(body: string | null, taskId: string): TaskMeta | undefined {
    if (body === null) return undefined;
    try {
      return fromCeleryMeta(JSON.parse(body), taskId);
    } catch {
      return undefined;
    }
  }

  /** Adds a listener on `channel`, subscribing when it is the first. Resolves once subscribed. */
  private async listen(channel: string, listener: (body: string) => void): Promise<void> {
    if (!this.subscriber) {
      // ioredis re-subscribes to every channel after a reconnect (autoResubscribe).
      const subscriber = this.redis.duplicate();
      subscriber.on("error", () => undefined);
      subscriber.on("message", (from: string, body: string) => {
        for (const l of [...(this.listeners.get(from) ?? [])]) l(body);
      });
      this.subscriber = subscriber;
    }
    let set = this.listeners.get(channel);
    if (!set) this.listeners.set(channel, (set = new Set()));
    set.add(listener);
    await this.subscriber.subscribe(channel);
  }

  private async unlisten(channel: string, listener: (body: string) => void): Promise<void> {
    const set = this.listeners.get(channel);
    if (!set) return;
    set.delete(listener);
    if (set.size > 0) return;
    this.listeners.delete(channel);
    if (!this.closed) await this.subscriber?.unsubscribe(channel).catch(() => undefined);
  }
}
