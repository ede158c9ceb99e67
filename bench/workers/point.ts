/**
 * One point of the workers bench: a served tree (N workers, one server) measured over several
 * samples of bounded load, reduced to medians (latency: the median of each sample's percentile)
 * and peaks (RSS).
 *
 * @module
 */
import { median } from "../aggregate.js";
import { runLoad, type LoadResult, type ToolName } from "../load-generator.js";
import { CAN_PIN } from "../server-process.js";
import type { Workload } from "../workloads.js";
import type { ServedTree } from "./serve-master.js";
import { watchTree, type TreeUsage } from "./tree-stats.js";

/** One measured point. */
export interface Point {
  scenario: string;
  server: "node" | "uws";
  workers: number;
  /** Median over samples of the main load's req/s. */
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Summed over samples: non-2xx plus socket errors. */
  errors: number;
  /** Peak RSS per worker over the samples, MB. */
  workerRssMB: number[];
  masterRssMB: number;
  totalRssMB: number;
  /** Median CPU of the served tree, in cores. */
  serverCores: number;
  /** Median CPU of the load generator(s), as a fraction of their one core. */
  generatorCpu: number;
  samples: number;
  /** Scenario-specific medians (the blocking route's req/s, pool settings, …). */
  extra: Record<string, number | string>;
}

/** The loads of one sample: `main` is what the point reports; `side` runs at the same time (e.g. the blocking route). */
export interface PointLoad {
  main: Workload;
  connections: number;
  side?: { workload: Workload; connections: number };
}

/** One sample's raw results. */
export interface RawSample {
  main: LoadResult;
  side?: LoadResult;
  usage: TreeUsage;
}

/** Runs one sample of `load` against `tree` for `seconds`. */
export async function sampleOnce(tree: ServedTree, tool: ToolName, load: PointLoad, seconds: number): Promise<RawSample> {
  const baseUrl = `http://127.0.0.1:${tree.spec.port}`;
  const watch = watchTree(tree);
  let usage: TreeUsage | undefined;
  try {
    const [main, side] = await Promise.all([
      runLoad({ tool, baseUrl, workload: load.main, seconds, connections: load.connections, pin: CAN_PIN }),
      load.side === undefined ? undefined : runLoad({ tool, baseUrl, workload: load.side.workload, seconds, connections: load.side.connections, pin: CAN_PIN }),
    ]);
    usage = watch.stop();
    return { main, side, usage };
  } finally {
    // A failed run still stops the RSS samplers (their timers would keep the process alive).
    if (usage === undefined) watch.stop();
  }
}

/** Reduces samples to a point. */
export function reduceSamples(scenario: string, tree: Pick<ServedTree, "spec">, raw: readonly RawSample[], extra: Record<string, number | string> = {}): Point {
  const workers = raw[0]?.usage.workerRssMB.length ?? 0;
  const workerRssMB = Array.from({ length: workers }, (_, i) => Math.max(...raw.map((r) => r.usage.workerRssMB[i] ?? NaN).filter(Number.isFinite), 0));
  const masterRssMB = Math.max(0, ...raw.map((r) => r.usage.masterRssMB).filter(Number.isFinite));
  return {
    scenario,
    server: tree.spec.server,
    workers: tree.spec.workers,
    rps: median(raw.map((r) => r.main.rps)),
    p50Ms: median(raw.map((r) => r.main.p50Ms)),
    p99Ms: median(raw.map((r) => r.main.p99Ms)),
    errors: raw.reduce((sum, r) => sum + r.main.errors + (r.side?.errors ?? 0), 0),
    workerRssMB,
    masterRssMB,
    totalRssMB: masterRssMB + workerRssMB.reduce((a, b) => a + b, 0),
    serverCores: median(raw.map((r) => r.usage.serverCores)),
    generatorCpu: median(raw.map((r) => r.main.generatorCpu)),
    samples: raw.length,
    extra,
  };
}

/**
 * True when the machine was busy with other work during `point`: with one worker, that worker got
 * less than 80% of a core; with more, the tree and the load generator together got less than 80%
 * of the machine. Such a point understates what the workers can do.
 */
export function contended(point: Pick<Point, "workers" | "serverCores" | "generatorCpu">, cores: number): boolean {
  if (point.workers === 1) return point.serverCores < 0.8;
  return point.serverCores + point.generatorCpu < 0.8 * cores;
}
