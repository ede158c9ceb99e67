/**
 * The count in Redis (ioredis): `INCR` is atomic on the server, whichever worker sends it, and
 * returns the new value, so every worker sees one count. Redis is a separate service: when it is
 * down, this store is unavailable (the route answers 503) while the others keep working.
 *
 * @module
 */
import { Redis } from "ioredis";
import type { VisitCounter } from "./counter.js";

/** Raised by the Redis counter when Redis cannot be reached. */
export class RedisUnavailableError extends Error {
  constructor(url: string, cause?: unknown) {
    super(`Redis at ${url} is not reachable`, { cause });
    this.name = "RedisUnavailableError";
  }
}

/** The counter in one Redis key. */
export class RedisCounter implements VisitCounter {
  readonly name = "redis" as const;
  private redis: Redis | undefined;

  /**
   * @param url e.g. `redis://127.0.0.1:6379/0`
   * @param key the key holding the count
   */
  constructor(
    private readonly url: string,
    private readonly key: string,
  ) {}

  /** Connects; a Redis that is down leaves the counter closed (its routes answer 503), not the app. */
  async open(): Promise<void> {
    // No offline queue and no retries per command: a visit fails at once when Redis is down,
    // rather than hanging the request until a reconnect that may never come.
    const redis = new Redis(this.url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout: 2_000 });
    redis.on("error", () => undefined); // failures surface on the commands that meet them
    try {
      await redis.connect();
      this.redis = redis;
    } catch {
      redis.disconnect();
    }
  }

  /** True when {@link open} connected. */
  get available(): boolean {
    return this.redis !== undefined;
  }

  private client(): Redis {
    if (this.redis === undefined) throw new RedisUnavailableError(this.url);
    return this.redis;
  }

  async increment(): Promise<number> {
    try {
      return await this.client().incr(this.key);
    } catch (error) {
      throw error instanceof RedisUnavailableError ? error : new RedisUnavailableError(this.url, error);
    }
  }

  async read(): Promise<number> {
    try {
      return Number((await this.client().get(this.key)) ?? 0);
    } catch (error) {
      throw error instanceof RedisUnavailableError ? error : new RedisUnavailableError(this.url, error);
    }
  }

  async close(): Promise<void> {
    await this.redis?.quit().catch(() => this.redis?.disconnect());
    this.redis = undefined;
  }
}
