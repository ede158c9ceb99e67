/**
 * The printed results: one table per workload (median req/s, ratio to each laminar build in the
 * same run, latency, errors, peak RSS, server and generator CPU), and the targets.
 *
 * @module
 */
import type { Summary, TargetCheck } from "./aggregate.js";

/** One table row's inputs. */
export interface TableRow {
  label: string;
  summary: Summary;
  /** Ratio of this contender to laminar node:http / uWS, paired per round (NaN when not measured). */
  toLaminarNode: number;
  toLaminarUws: number;
}

const fixed = (value: number, digits: number): string => (Number.isFinite(value) ? value.toFixed(digits) : "–");
const percent = (value: number): string => (Number.isFinite(value) ? `${Math.round(value * 100)}%` : "–");
const rps = (value: number): string => (Number.isFinite(value) ? Math.round(value).toLocaleString("en-US") : "–");

/** The table of one workload. */
export function formatWorkloadTable(workload: string, rows: readonly TableRow[]): string {
  const width = Math.max(20, ...rows.map((r) => r.label.length + 2));
  const head =
    workload.padEnd(width) +
    ["req/s", "×lam-node", "×lam-uws", "p50 ms", "p99 ms", "errors", "RSS MB", "srv CPU", "gen CPU"].map((h, i) => h.padStart(i === 0 ? 10 : 10)).join("");
  const lines = [head, "-".repeat(head.length)];
  for (const row of rows) {
    const s = row.summary;
    lines.push(
      row.label.padEnd(width) +
        [rps(s.medianRps), fixed(row.toLaminarNode, 2), fixed(row.toLaminarUws, 2), fixed(s.p50Ms, 2), fixed(s.p99Ms, 2), String(s.errors), fixed(s.peakRssMB, 1), percent(s.serverCpu), percent(s.generatorCpu)]
          .map((cell) => cell.padStart(10))
          .join(""),
    );
  }
  return lines.join("\n");
}

/** The targets, one line each, with met / MISSED. */
export function formatTargets(checks: readonly TargetCheck[]): string {
  if (checks.length === 0) return "targets: none measurable with the contenders run";
  const width = Math.max(...checks.map((c) => c.target.length));
  return [
    "targets (issue 5; ratios paired per round, same run):",
    ...checks.map((c) => {
      const value = c.kind === "<=" ? `${fixed(c.value, 1)} MB` : `${fixed(c.value, 2)}×`;
      return `  ${c.met ? "met   " : "MISSED"}  ${c.target.padEnd(width)}  ${c.workload.padEnd(15)} ${value}`;
    }),
  ].join("\n");
}
