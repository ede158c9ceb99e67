/**
 * The `postgres` scenario: the bookstore on PostgreSQL (`DATABASE_URL`) under `--workers N`, each
 * worker with its own pool of `DATABASE_POOL_SIZE` connections, so the service may open up to
 * N × pool connections. The server (here: the bench role's `CONNECTION LIMIT`, see
 * `bench-role.ts`) allows `limit`. Cases:
 *
 * - N × pool = limit, split different ways: everything fits;
 * - N × pool < limit with a pool of 1: no error, but requests queue for their worker's one
 *   connection (the pool's wait shows in the latency: compare 2 × 1 with 2 × 4, same workers);
 * - N × pool > limit (pg's default pool of 10): the pools grow under load until the server refuses
 *   them; those requests answer 503 (SQLSTATE 53300, logged by the bookstore) while the
 *   connections already open keep serving.
 *
 * Per case: req/s, p50/p99, non-2xx responses, the peak of the role's connections at the server
 * (`pg_stat_activity`) and the refusals the workers logged.
 *
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ToolName } from "../load-generator.js";
import { freePort } from "../server-process.js";
import { BOOK_LIST_PATH, BOOKSTORE_TARGET, bookstoreEnv, seedBookstore } from "./bookstore-target.js";
import { createBenchRole, type ServerLimits } from "./bench-role.js";
import type { WorkersOptions } from "./options.js";
import { reduceSamples, sampleOnce, type Point, type PointLoad } from "./point.js";
import { withTree } from "./scenarios.js";

/** The bench role's connection limit. */
export const POOL_LIMIT = 8;

/** Workers × pool size measured, in order. */
export const POOL_CASES: ReadonlyArray<{ workers: number; poolSize: number }> = [
  { workers: 1, poolSize: 8 },
  { workers: 2, poolSize: 4 },
  { workers: 2, poolSize: 1 },
  { workers: 4, poolSize: 2 },
  { workers: 4, poolSize: 1 },
  { workers: 2, poolSize: 10 },
  { workers: 4, poolSize: 10 },
];

/** The scenario's outcome: skipped with a reason, or measured. */
export type PoolReport =
  | { skipped: string }
  | { limit: number; role: string; server: ServerLimits; poolTimeoutMs: number; points: Point[] };

/** How long a request waits for a pooled connection before its 503 (the bookstore's default). */
const POOL_TIMEOUT_MS = 5_000;

/** The lines of `text` that contain `needle` (one log line per refused request, however often its error repeats the phrase). */
export function linesWith(text: string, needle: string): number {
  return text.split("\n").filter((line) => line.includes(needle)).length;
}

/** Runs the cases; skips (with the reason) when PostgreSQL cannot be reached or the role cannot be made. */
export async function poolScenario(tool: ToolName, options: WorkersOptions, log: (line: string) => void): Promise<PoolReport> {
  let role;
  try {
    role = await createBenchRole(options.postgresUrl, POOL_LIMIT);
  } catch (error) {
    const skipped = `PostgreSQL scenario skipped: ${(error as Error).message} (${options.postgresUrl.replace(/:[^:@/]*@/, ":***@")})`;
    log(skipped);
    return { skipped };
  }
  const dir = mkdtempSync(join(tmpdir(), "laminar-bench-pool-"));
  try {
    log(
      `postgres: role ${"bench_pool"} with CONNECTION LIMIT ${POOL_LIMIT} (server: max_connections ${role.server.maxConnections}, ` +
        `${role.server.superuserReserved} reserved, ${role.server.inUse} in use by others)`,
    );
    const load: PointLoad = { main: { name: `GET ${BOOK_LIST_PATH}`, method: "GET", path: BOOK_LIST_PATH }, connections: options.connections };
    const points: Point[] = [];
    for (const { workers, poolSize } of POOL_CASES) {
      // The previous case's backends must be gone, or this tree's startup connections could be refused.
      await role.waitForNoConnections();
      const env = { ...bookstoreEnv(dir, role.url), DATABASE_POOL_SIZE: String(poolSize), DATABASE_POOL_TIMEOUT_MS: String(POOL_TIMEOUT_MS) };
      const point = await withTree({ target: BOOKSTORE_TARGET, workers, server: "node", port: await freePort(), env }, async (tree) => {
        await seedBookstore(`http://127.0.0.1:${tree.spec.port}`);
        await sampleOnce(tree, tool, load, 1);
        const logged = tree.output().length;
        const watch = role.watchConnections();
        const raw = [];
        for (let i = 0; i < options.samples; i++) raw.push(await sampleOnce(tree, tool, load, options.duration));
        const peak = await watch.stop();
        const refusals = linesWith(tree.output().slice(logged), "too many connections");
        return reduceSamples("postgres", tree, raw, { poolSize, product: workers * poolSize, limit: POOL_LIMIT, peakConnections: peak, refusals });
      });
      points.push(point);
      log(
        `postgres   N=${workers} pool=${poolSize} (${workers * poolSize} vs limit ${POOL_LIMIT})  ${Math.round(point.rps).toLocaleString("en-US").padStart(6)} req/s  ` +
          `p50 ${point.p50Ms.toFixed(2)} ms  p99 ${point.p99Ms.toFixed(2)} ms  non-2xx ${point.errors}  peak conns ${point.extra.peakConnections}  refusals logged ${point.extra.refusals}`,
      );
    }
    return { limit: POOL_LIMIT, role: "bench_pool", server: role.server, poolTimeoutMs: POOL_TIMEOUT_MS, points };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await role.drop();
  }
}
