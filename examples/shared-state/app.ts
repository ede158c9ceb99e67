/**
 * The shared-state example: one visit counter kept three ways, each behind its own route, to run
 * under `laminar serve --workers N` and see which count is right.
 *
 * - `POST /visits/{store}` adds a visit and answers `{ store, pid, visits }`: the count right after
 *   this visit, as this store sees it, and the pid of the worker that answered.
 * - `GET /visits/{store}` answers the current count (as the answering worker sees it).
 * - `GET /pid` answers the worker's pid.
 *
 * `{store}` is `memory` (a variable in each worker: wrong under several workers), `sqlite`
 * (a WAL file every worker opens) or `redis` (`INCR` on a shared Redis). See README.md.
 *
 * Run: `npm run build && node dist/lib/cli/bin.js serve dist/examples/shared-state/app.js:createSharedStateApp --workers 2 --port 8000`
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { App, HttpException, Type } from "../../lib/index.js";
import type { StoreName, VisitCounter } from "./counter.js";
import { MemoryCounter } from "./memory-counter.js";
import { SqliteCounter } from "./sqlite-counter.js";
import { RedisCounter, RedisUnavailableError } from "./redis-counter.js";

/** Options for {@link createSharedStateApp}; each falls back to an environment variable. */
export interface SharedStateOptions {
  /** SQLite file; default `SHARED_STATE_DB`, else `visits.db` beside this example (git-ignored). */
  databaseFile?: string;
  /** Redis URL; default `REDIS_URL`, else `redis://127.0.0.1:6379/0`. */
  redisUrl?: string;
  /** Key of the Redis count; default `SHARED_STATE_REDIS_KEY`, else `laminar:shared-state:visits`. */
  redisKey?: string;
}

/** `examples/shared-state/visits.db`, also when run from `dist/`. */
export function defaultDatabaseFile(): string {
  const here = fileURLToPath(new URL(".", import.meta.url)).replace(/[\\/]dist([\\/]examples[\\/]shared-state[\\/])$/, "$1");
  return join(here, "visits.db");
}

const Store = Type.Union([Type.Literal("memory"), Type.Literal("sqlite"), Type.Literal("redis")]);
const Visits = Type.Object({ store: Store, pid: Type.Integer(), visits: Type.Integer() });

/** Builds the app; the SQLite file and the Redis connection open in the lifespan startup. */
export function createSharedStateApp(options: SharedStateOptions = {}): App {
  const redis = new RedisCounter(
    options.redisUrl ?? process.env.REDIS_URL ?? "redis://127.0.0.1:6379/0",
    options.redisKey ?? process.env.SHARED_STATE_REDIS_KEY ?? "laminar:shared-state:visits",
  );
  const counters: Record<StoreName, VisitCounter> = {
    memory: new MemoryCounter(),
    sqlite: new SqliteCounter(options.databaseFile ?? process.env.SHARED_STATE_DB ?? defaultDatabaseFile()),
    redis,
  };
  const app = new App({
    async *lifespan() {
      for (const counter of Object.values(counters)) await counter.open();
      if (!redis.available) app.logger.warn({}, "Redis is not reachable: /visits/redis answers 503 (memory and sqlite work)");
      try {
        yield;
      } finally {
        for (const counter of Object.values(counters)) await counter.close();
      }
    },
  });

  // Redis down is the service's problem, not the client's: 503, and the other stores keep working.
  const visits = async (store: StoreName, step: (counter: VisitCounter) => Promise<number>): Promise<{ store: StoreName; pid: number; visits: number }> => {
    try {
      return { store, pid: process.pid, visits: await step(counters[store]) };
    } catch (error) {
      if (error instanceof RedisUnavailableError) throw new HttpException(503, error.message);
      throw error;
    }
  };
  const params = Type.Object({ store: Store });
  app.get("/pid", { response: Type.Object({ pid: Type.Integer() }) }, () => ({ pid: process.pid }));
  app.post("/visits/{store}", { params, response: Visits }, ({ params }) => visits(params.store, (counter) => counter.increment()));
  app.get("/visits/{store}", { params, response: Visits }, ({ params }) => visits(params.store, (counter) => counter.read()));
  return app;
}
