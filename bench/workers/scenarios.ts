/**
 * The two HTTP scenarios of the workers bench, each measured for N = 1 … max workers on each server:
 *
 * - `throughput`: the bookstore's `GET /books?limit=20` under wrk; req/s, latency and memory
 *   against N.
 * - `blocking`: the fast route `GET /hello` under the same load while one more connection keeps a
 *   `GET /block?ms=20` (20 ms of synchronous CPU) in flight all the time. With one worker, every
 *   fast request queues behind each block; with N, only the requests that worker holds do (a
 *   keep-alive connection stays on the worker that accepted it).
 *
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { median } from "../aggregate.js";
import type { ToolName } from "../load-generator.js";
import { freePort } from "../server-process.js";
import { repoRoot } from "../workloads.js";
import { BOOK_LIST_PATH, BOOKSTORE_TARGET, bookstoreEnv, seedBookstore } from "./bookstore-target.js";
import { workerCounts, type WorkersOptions } from "./options.js";
import { reduceSamples, sampleOnce, type Point, type PointLoad } from "./point.js";
import { serve, type ServeSpec, type ServedTree } from "./serve-master.js";

/** The blocking app's `laminar serve` target. */
export const BLOCKING_TARGET = join(repoRoot, "dist/bench/workers/blocking-app.js") + ":app";

/** Milliseconds of CPU the blocking route burns per request. */
export const BLOCK_MS = 20;

/** Serves `spec`, runs `body`, and always stops it; a failure carries the end of the tree's output (why a master stopped). */
export async function withTree<T>(spec: ServeSpec, body: (tree: ServedTree) => Promise<T>): Promise<T> {
  const tree = await serve(spec);
  try {
    return await body(tree);
  } catch (error) {
    throw new Error(`${(error as Error).message}\n--- laminar serve --workers ${spec.workers} --server ${spec.server}, last output:\n${tree.output().slice(-2_000)}`, { cause: error });
  } finally {
    await tree.stop();
  }
}

/**
 * Measures `load` on a fresh tree: a 1 s warm-up (every worker has listened by then), then the
 * samples. With a side load, one sample of the main load alone comes first (`extra.aloneRps`,
 * `extra.aloneP99Ms`), so each point carries its own baseline.
 */
export async function measureTree(scenario: string, tool: ToolName, options: WorkersOptions, spec: ServeSpec, load: PointLoad, prepare?: (baseUrl: string) => Promise<void>): Promise<Point> {
  return withTree(spec, async (tree) => {
    await prepare?.(`http://127.0.0.1:${spec.port}`);
    await sampleOnce(tree, tool, load, 1);
    // With a side load, one sample of the main load alone first: the same tree's baseline.
    const alone = load.side === undefined ? undefined : await sampleOnce(tree, tool, { main: load.main, connections: load.connections }, options.duration);
    const raw = [];
    for (let i = 0; i < options.samples; i++) raw.push(await sampleOnce(tree, tool, load, options.duration));
    const point = reduceSamples(scenario, tree, raw);
    if (load.side !== undefined && alone !== undefined) {
      point.extra = {
        sideRoute: load.side.workload.name,
        sideRps: median(raw.map((r) => r.side!.rps)),
        aloneRps: alone.main.rps,
        aloneP99Ms: alone.main.p99Ms,
      };
    }
    return point;
  });
}

/** Calls `each` for every server × N, in order; `log` gets one line per point. */
async function sweep(options: WorkersOptions, log: (line: string) => void, each: (server: "node" | "uws", workers: number) => Promise<Point>): Promise<Point[]> {
  const points: Point[] = [];
  for (const server of options.servers) {
    for (const workers of workerCounts(options)) {
      const point = await each(server, workers);
      points.push(point);
      log(
        `${point.scenario.padEnd(10)} ${server.padEnd(4)} N=${workers}  ${Math.round(point.rps).toLocaleString("en-US").padStart(7)} req/s  ` +
          `p50 ${point.p50Ms.toFixed(2)} ms  p99 ${point.p99Ms.toFixed(2)} ms  RSS ${point.totalRssMB.toFixed(0)} MB  errors ${point.errors}`,
      );
    }
  }
  return points;
}

/** The throughput scenario on the bookstore (a fresh SQLite database, seeded once, shared by every point). */
export async function throughputScenario(tool: ToolName, options: WorkersOptions, log: (line: string) => void): Promise<Point[]> {
  const dir = mkdtempSync(join(tmpdir(), "laminar-bench-workers-"));
  try {
    const env = bookstoreEnv(dir);
    const load: PointLoad = { main: { name: `GET ${BOOK_LIST_PATH}`, method: "GET", path: BOOK_LIST_PATH }, connections: options.connections };
    return await sweep(options, log, async (server, workers) =>
      measureTree("throughput", tool, options, { target: BOOKSTORE_TARGET, workers, server, port: await freePort(), env }, load, (url) => seedBookstore(url)),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The blocking-handler scenario on the blocking app. */
export async function blockingScenario(tool: ToolName, options: WorkersOptions, log: (line: string) => void): Promise<Point[]> {
  const load: PointLoad = {
    main: { name: "GET /hello", method: "GET", path: "/hello" },
    connections: options.connections,
    side: { workload: { name: `GET /block?ms=${BLOCK_MS}`, method: "GET", path: `/block?ms=${BLOCK_MS}` }, connections: 1 },
  };
  return sweep(options, log, async (server, workers) =>
    measureTree("blocking", tool, options, { target: BLOCKING_TARGET, workers, server, port: await freePort() }, load),
  );
}
