/**
 * The printed results of `npm run bench:instructions`: a table of instructions per request
 * (contender × workload, each with its ratio to laminar node:http) and the targets
 * restated for instruction counts. Pure, so the test can check it.
 *
 * @module
 */

/** One contender × workload measured (or failed). */
export interface PairResult {
  contender: string;
  workload: string;
  /** Instructions per request of each measured window, in the order measured. */
  windows: number[];
  /** Instructions per request: the median window; NaN when the run failed. */
  perRequest: number;
  /** Why it has no number. */
  error?: string;
}

/** One target checked on one workload. */
export interface InstructionTarget {
  target: string;
  workload: string;
  /** laminar's instructions per request divided by the peer's. */
  ratio: number;
  /** The largest ratio that meets the target. */
  limit: number;
  met: boolean;
}

/**
 * The req/s targets, restated for instructions (fewer instructions per request is
 * faster): laminar ≥ 90% of bare node:http → laminar's instructions ≤ bare's / 0.9; laminar
 * ≥ 1.0× Fastify → laminar's instructions ≤ Fastify's.
 */
export const TARGETS = [
  { peer: "bare-node", target: "laminar ≤ bare node:http / 0.9", limit: 1 / 0.9 },
  { peer: "fastify", target: "laminar ≤ Fastify", limit: 1 },
] as const;

const find = (results: readonly PairResult[], contender: string, workload: string): number =>
  results.find((r) => r.contender === contender && r.workload === workload)?.perRequest ?? NaN;

/** The targets measurable with the results (laminar-node and the peer both have a number). */
export function checkInstructionTargets(results: readonly PairResult[], workloads: readonly string[]): InstructionTarget[] {
  const checks: InstructionTarget[] = [];
  for (const { peer, target, limit } of TARGETS) {
    for (const workload of workloads) {
      const ratio = find(results, "laminar-node", workload) / find(results, peer, workload);
      if (Number.isFinite(ratio)) checks.push({ target, workload, ratio, limit, met: ratio <= limit });
    }
  }
  return checks;
}

const thousands = (value: number): string => (Number.isFinite(value) ? `${(value / 1000).toFixed(1)}k` : "–");

/**
 * The table: one row per contender, one column per workload, each cell the instructions per
 * request and (in parentheses) that divided by laminar node:http's: above 1 the contender
 * executes more instructions per request than laminar.
 */
export function formatInstructionTable(results: readonly PairResult[], contenders: readonly { id: string; label: string }[], workloads: readonly string[]): string {
  const width = Math.max(20, ...contenders.map((c) => c.label.length + 2));
  const cell = Math.max(18, ...workloads.map((w) => w.length + 2));
  const head = "instructions/request".padEnd(width) + workloads.map((w) => w.padStart(cell)).join("");
  const lines = [head, "-".repeat(head.length)];
  for (const c of contenders) {
    const cells = workloads.map((w) => {
      const value = find(results, c.id, w);
      const ratio = value / find(results, "laminar-node", w);
      return (thousands(value) + (Number.isFinite(ratio) ? ` (${ratio.toFixed(2)}×)` : "")).padStart(cell);
    });
    lines.push(c.label.padEnd(width) + cells.join(""));
  }
  lines.push("(×) = the contender's instructions per request / laminar node:http's; above 1: laminar executes fewer");
  const spread = results.filter((r) => r.windows.length > 1);
  if (spread.length > 0) {
    lines.push("each cell is the median window; the windows:");
    for (const r of spread) lines.push(`  ${r.workload.padEnd(15)} ${r.contender.padEnd(14)} ${r.windows.map(thousands).join(" / ")}`);
  }
  return lines.join("\n");
}

/** The targets, one line each, with met / MISSED. */
export function formatInstructionTargets(checks: readonly InstructionTarget[]): string {
  if (checks.length === 0) return "targets: none measurable (needs laminar-node with bare-node or fastify)";
  const width = Math.max(...checks.map((c) => c.target.length));
  return [
    "targets (issue 5, restated for instructions per request; laminar's count / the peer's):",
    ...checks.map((c) => `  ${c.met ? "met   " : "MISSED"}  ${c.target.padEnd(width)}  ${c.workload.padEnd(15)} ${c.ratio.toFixed(3)} (limit ${c.limit.toFixed(3)})`),
  ].join("\n");
}
