/**
 * Turning samples into results: medians per contender and workload, the paired ratios (each
 * round's two samples saw nearly the same machine, so the median of per-round ratios is steadier
 * than a ratio of medians on a virtual machine whose speed drifts), and the targets.
 * Pure functions, tested without load.
 *
 * @module
 */

/** One measured sample of one contender under one workload in one round. */
export interface Sample {
  round: number;
  contender: string;
  workload: string;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** Peak server RSS seen during the sample, MB. */
  rssMB: number;
  /** Server CPU use over the sample, fraction of one core. */
  serverCpu: number;
  /** Load generator CPU use over the sample, fraction of one core. */
  generatorCpu: number;
}

/** Median of the finite values; NaN when there are none. */
export function median(values: readonly number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** `list` rotated left by `by` places (the interleaving order of round `by`). */
export function rotate<T>(list: readonly T[], by: number): T[] {
  if (list.length === 0) return [];
  const k = ((by % list.length) + list.length) % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

/** One contender's result for one workload. */
export interface Summary {
  contender: string;
  workload: string;
  samples: number;
  medianRps: number;
  p50Ms: number;
  p99Ms: number;
  /** Sum over every sample. */
  errors: number;
  /** Peak over every sample, MB. */
  peakRssMB: number;
  serverCpu: number;
  generatorCpu: number;
}

/** Medians (latency: median of the per-sample percentiles), summed errors and peak RSS. */
export function summarise(samples: readonly Sample[], contender: string, workload: string): Summary {
  const own = samples.filter((s) => s.contender === contender && s.workload === workload);
  return {
    contender,
    workload,
    samples: own.length,
    medianRps: median(own.map((s) => s.rps)),
    p50Ms: median(own.map((s) => s.p50Ms)),
    p99Ms: median(own.map((s) => s.p99Ms)),
    errors: own.reduce((sum, s) => sum + s.errors, 0),
    peakRssMB: Math.max(...own.map((s) => (Number.isFinite(s.rssMB) ? s.rssMB : 0)), 0),
    serverCpu: median(own.map((s) => s.serverCpu)),
    generatorCpu: median(own.map((s) => s.generatorCpu)),
  };
}

/**
 * The median over rounds of `a`'s req/s divided by `b`'s, for one workload (rounds where both
 * were measured); NaN when there is no such round.
 */
export function pairedRatio(samples: readonly Sample[], a: string, b: string, workload: string): number {
  const byRound = (name: string): Map<number, number> =>
    new Map(samples.filter((s) => s.contender === name && s.workload === workload).map((s) => [s.round, s.rps]));
  const ra = byRound(a);
  const rb = byRound(b);
  const ratios: number[] = [];
  for (const [round, rps] of ra) {
    const other = rb.get(round);
    if (other !== undefined && other > 0) ratios.push(rps / other);
  }
  return median(ratios);
}

/** One of the targets, checked. */
export interface TargetCheck {
  /** e.g. `laminar node:http / Fastify ≥ 1.0×`. */
  target: string;
  workload: string;
  /** The measured value (a ratio, or MB). */
  value: number;
  threshold: number;
  /** `">="` for ratios, `"<="` for memory. */
  kind: ">=" | "<=";
  met: boolean;
}

interface RatioTarget {
  subject: string;
  peer: string;
  threshold: number;
  workloads?: readonly string[];
}

/** The ratio targets (laminar / peer, same run), and the RSS bound for a laminar worker. */
export const RATIO_TARGETS: readonly RatioTarget[] = [
  { subject: "laminar-node", peer: "fastify", threshold: 1.0 },
  { subject: "laminar-node", peer: "bare-node", threshold: 0.9 },
  { subject: "laminar-uws", peer: "fastify", threshold: 1.5 },
  { subject: "laminar-uws", peer: "bare-uws", threshold: 0.75 },
  { subject: "laminar-node", peer: "fastapi", threshold: 4, workloads: ["GET /hello"] },
  { subject: "laminar-node", peer: "fastapi", threshold: 8, workloads: ["POST /items"] },
  { subject: "laminar-uws", peer: "fastapi", threshold: 4, workloads: ["GET /hello"] },
  { subject: "laminar-uws", peer: "fastapi", threshold: 8, workloads: ["POST /items"] },
];

/** RSS bound for a laminar worker under load, MB. */
export const RSS_TARGET_MB = 70;

/** Every target whose contenders were measured, per workload. */
export function checkTargets(samples: readonly Sample[], workloads: readonly string[], labels: Record<string, string> = {}): TargetCheck[] {
  const measured = new Set(samples.map((s) => s.contender));
  const label = (id: string): string => labels[id] ?? id;
  const checks: TargetCheck[] = [];
  for (const t of RATIO_TARGETS) {
    if (!measured.has(t.subject) || !measured.has(t.peer)) continue;
    for (const workload of t.workloads ?? workloads) {
      if (!workloads.includes(workload)) continue;
      const value = pairedRatio(samples, t.subject, t.peer, workload);
      checks.push({
        target: `${label(t.subject)} / ${label(t.peer)} ≥ ${t.threshold}×`,
        workload,
        value,
        threshold: t.threshold,
        kind: ">=",
        met: value >= t.threshold,
      });
    }
  }
  for (const subject of ["laminar-node", "laminar-uws"]) {
    if (!measured.has(subject)) continue;
    const own = samples.filter((s) => s.contender === subject && Number.isFinite(s.rssMB));
    const value = Math.max(...own.map((s) => s.rssMB), 0);
    checks.push({ target: `${label(subject)} RSS ≤ ${RSS_TARGET_MB} MB`, workload: "all", value, threshold: RSS_TARGET_MB, kind: "<=", met: value <= RSS_TARGET_MB });
  }
  return checks;
}
