/**
 * A dedicated PostgreSQL role for the pool scenario, so the bench can hit a connection limit
 * without touching the server's settings or its other users.
 *
 * The server's own limit (`max_connections`, 100 on the project's machines) is shared by everyone
 * on it; filling it would break other clients. `CREATE ROLE … CONNECTION LIMIT n` gives the bench
 * the same class of failure at a small n: past it the server refuses a new connection with
 * SQLSTATE 53300 `too_many_connections` ("too many connections for role" instead of "sorry, too
 * many clients already"), which the bookstore turns into a 503 either way.
 *
 * The role owns a schema of its own (the bookstore's tables go there, through `search_path` in the
 * URL); both are dropped at the end, and a leftover from an interrupted run is dropped first.
 *
 * @module
 */
import pg from "pg";

/** The role's name (and its schema's). */
export const BENCH_ROLE = "bench_pool";

/** What the server allows, as seen when the scenario starts. */
export interface ServerLimits {
  maxConnections: number;
  superuserReserved: number;
  /** Connections open on the whole server when measured (other users included). */
  inUse: number;
}

/** The role, its URL, and a sampler of its connections at the server. */
export interface BenchRole {
  /** `postgres://bench_pool@host:port/db?options=-c search_path=bench_pool`. */
  readonly url: string;
  readonly limit: number;
  readonly server: ServerLimits;
  /** Samples the role's connection count every `ms` until `stop()`, which returns the peak. */
  watchConnections(ms?: number): { stop(): Promise<number> };
  /**
   * Waits (at most `timeoutMs`) until the role has no connection at the server: a stopped tree's
   * backends take a moment to exit, and until they do they count against the limit, so the next
   * tree's startup could be refused.
   *
   * @throws when connections remain after `timeoutMs`
   */
  waitForNoConnections(timeoutMs?: number): Promise<void>;
  /** Ends the role's sessions, drops its schema and the role, closes the admin connection. */
  drop(): Promise<void>;
}

/** The URL the bookstore connects with: the admin URL's host and database, as the bench role, in its schema. */
export function roleUrl(adminUrl: string, role = BENCH_ROLE): string {
  const url = new URL(adminUrl);
  url.username = role;
  url.password = "";
  url.search = "";
  url.searchParams.set("options", `-c search_path=${role}`);
  return url.toString();
}

async function dropAll(admin: pg.Client): Promise<void> {
  await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", [BENCH_ROLE]);
  const exists = await admin.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [BENCH_ROLE]);
  if (exists.rowCount === 0) return;
  await admin.query(`DROP SCHEMA IF EXISTS ${BENCH_ROLE} CASCADE`);
  await admin.query(`DROP OWNED BY ${BENCH_ROLE} CASCADE`);
  await admin.query(`DROP ROLE ${BENCH_ROLE}`);
}

/**
 * Connects as `adminUrl` (a role that may create roles) and creates the bench role with
 * `CONNECTION LIMIT limit` and its schema.
 *
 * @throws when PostgreSQL cannot be reached or the role cannot be created
 */
export async function createBenchRole(adminUrl: string, limit: number): Promise<BenchRole> {
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 3_000, application_name: "laminar-bench-workers" });
  await admin.connect();
  try {
    const max = Number((await admin.query<{ max_connections: string }>("SHOW max_connections")).rows[0]!.max_connections);
    const reserved = Number((await admin.query<{ superuser_reserved_connections: string }>("SHOW superuser_reserved_connections")).rows[0]!.superuser_reserved_connections);
    const inUse = Number((await admin.query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE backend_type = 'client backend'")).rows[0]!.n);
    await dropAll(admin);
    await admin.query(`CREATE ROLE ${BENCH_ROLE} LOGIN CONNECTION LIMIT ${Math.trunc(limit)}`);
    await admin.query(`CREATE SCHEMA ${BENCH_ROLE} AUTHORIZATION ${BENCH_ROLE}`);
    return {
      url: roleUrl(adminUrl),
      limit,
      server: { maxConnections: max, superuserReserved: reserved, inUse },
      watchConnections(ms = 100) {
        let peak = 0;
        let running = true;
        let failure: unknown;
        // Errors are kept for stop(), so a failed query cannot become an unhandled rejection meanwhile.
        const loop = (async () => {
          while (running) {
            const { rows } = await admin.query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE usename = $1", [BENCH_ROLE]);
            peak = Math.max(peak, Number(rows[0]!.n));
            await new Promise((resolve) => setTimeout(resolve, ms));
          }
        })().catch((error: unknown) => {
          failure = error;
        });
        return {
          async stop() {
            running = false;
            await loop;
            if (failure !== undefined) throw new Error(`counting the role's connections failed: ${(failure as Error).message}`, { cause: failure });
            return peak;
          },
        };
      },
      async waitForNoConnections(timeoutMs = 10_000) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const { rows } = await admin.query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE usename = $1", [BENCH_ROLE]);
          const open = Number(rows[0]!.n);
          if (open === 0) return;
          if (Date.now() > deadline) throw new Error(`${open} connection(s) of ${BENCH_ROLE} still open after ${timeoutMs} ms`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      },
      async drop() {
        try {
          await dropAll(admin);
        } finally {
          await admin.end();
        }
      },
    };
  } catch (error) {
    await admin.end().catch(() => undefined);
    throw error;
  }
}
