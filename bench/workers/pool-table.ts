/**
 * The printed table of the `postgres` scenario: one row per workers × pool case, and the rule it
 * illustrates.
 *
 * @module
 */
import type { PoolReport } from "./pool-scenario.js";

const fixed = (value: number, digits: number): string => (Number.isFinite(value) ? value.toFixed(digits) : "–");

/** The table (or the reason the scenario was skipped). */
export function formatPoolReport(report: PoolReport): string {
  if ("skipped" in report) return report.skipped;
  const head = ["N", "pool", "N×pool", "limit", "peak conns", "req/s", "p50 ms", "p99 ms", "non-2xx", "refusals"];
  const row = (cells: string[]): string => cells.map((cell, i) => (i === 0 ? cell.padEnd(4) : cell.padStart(i >= 4 ? 11 : 8))).join("");
  const lines = [
    `postgres: bookstore GET /books?limit=20 on PostgreSQL; role ${report.role} with CONNECTION LIMIT ${report.limit} ` +
      `(server max_connections ${report.server.maxConnections}, ${report.server.inUse} in use when measured); pool wait ${report.poolTimeoutMs} ms`,
    row(head),
    "-".repeat(row(head).length),
  ];
  for (const p of report.points) {
    lines.push(
      row([
        String(p.workers),
        String(p.extra.poolSize),
        String(p.extra.product),
        String(p.extra.limit),
        String(p.extra.peakConnections),
        Number.isFinite(p.rps) ? Math.round(p.rps).toLocaleString("en-US") : "–",
        fixed(p.p50Ms, 2),
        fixed(p.p99Ms, 2),
        String(p.errors),
        String(p.extra.refusals),
      ]),
    );
  }
  lines.push(
    `rule: workers × pool size ≤ the connections the server grants this service (here ${report.limit}; on the whole server ` +
      `max_connections ${report.server.maxConnections} − ${report.server.superuserReserved} reserved − other clients, across every instance of the service)`,
  );
  return lines.join("\n");
}
