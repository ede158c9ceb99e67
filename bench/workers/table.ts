/**
 * The printed tables of the workers bench: one per scenario and server, one row per worker count.
 *
 * @module
 */
import type { Point } from "./point.js";

const fixed = (value: number, digits: number): string => (Number.isFinite(value) ? value.toFixed(digits) : "–");
const whole = (value: number): string => (Number.isFinite(value) ? Math.round(value).toLocaleString("en-US") : "–");

/** The column a scenario's side load adds (the blocking route's req/s), if any. */
function sideColumn(points: readonly Point[]): string | undefined {
  const route = points.find((p) => typeof p.extra.sideRoute === "string")?.extra.sideRoute;
  return typeof route === "string" ? route : undefined;
}

/** A table of `points` (one scenario, one server), under `title`. */
export function formatPointTable(title: string, points: readonly Point[]): string {
  const side = sideColumn(points);
  const columns = ["N", "req/s", "p50 ms", "p99 ms", "errors", "RSS MB", "per worker", "master", "srv cores", "gen CPU", ...(side === undefined ? [] : [`${side} req/s`, "alone req/s", "alone p99"])];
  const widths = columns.map((c, i) => Math.max(i === 6 ? 22 : 9, c.length + 2));
  const row = (cells: string[]): string => cells.map((cell, i) => (i === 0 ? cell.padEnd(4) : cell.padStart(widths[i]!))).join("");
  const lines = [title, row(columns), "-".repeat(row(columns).length)];
  for (const p of points) {
    lines.push(
      row([
        String(p.workers),
        whole(p.rps),
        fixed(p.p50Ms, 2),
        fixed(p.p99Ms, 2),
        String(p.errors),
        fixed(p.totalRssMB, 0),
        p.workerRssMB.map((mb) => fixed(mb, 0)).join("/"),
        p.masterRssMB > 0 ? fixed(p.masterRssMB, 0) : "none",
        fixed(p.serverCores, 2),
        `${Math.round(p.generatorCpu * 100)}%`,
        ...(side === undefined ? [] : [fixed(Number(p.extra.sideRps), 0), whole(Number(p.extra.aloneRps)), fixed(Number(p.extra.aloneP99Ms), 2)]),
      ]),
    );
  }
  return lines.join("\n");
}

/** Groups points by scenario and server, in first-seen order. */
export function groupPoints(points: readonly Point[]): Array<{ scenario: string; server: string; points: Point[] }> {
  const groups = new Map<string, { scenario: string; server: string; points: Point[] }>();
  for (const p of points) {
    const key = `${p.scenario}|${p.server}`;
    if (!groups.has(key)) groups.set(key, { scenario: p.scenario, server: p.server, points: [] });
    groups.get(key)!.points.push(p);
  }
  return [...groups.values()];
}
