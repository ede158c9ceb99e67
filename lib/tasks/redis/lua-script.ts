/**
 * A Lua script run by EVALSHA, falling back to EVAL once when Redis does not know it (a restarted
 * server, SCRIPT FLUSH). Every multi-key step of the Redis broker is one script, so it is atomic
 * without WATCH/MULTI retries and without kombu's `unacked_mutex` (which guards a client-side,
 * non-atomic restore in `kombu/transport/redis.py: QoS.restore_visible`).
 *
 * Scripts take no KEYS (the key prefix is their first argument), so they are not Redis Cluster safe:
 * kombu's Redis transport does not support Cluster either.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { Redis } from "ioredis";

/** One script; {@link LuaScript.run} is safe to call on any connection. */
export class LuaScript {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash("sha1").update(source).digest("hex");
  }

  /** Runs it with `args` as ARGV. */
  async run(redis: Redis, args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, 0, ...args);
    } catch (error) {
      if (error instanceof Error && error.message.includes("NOSCRIPT")) return redis.eval(this.source, 0, ...args);
      throw error;
    }
  }
}
