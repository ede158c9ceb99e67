/**
 * Shared by the rolling-replacement process tests (SIGHUP, --max-requests, --reload): a load of
 * keep-alive and fresh-connection loops, and waits on which workers answer it.
 */
import { readFileSync } from "node:fs";
import type { Master } from "./master-harness.js";
import { startLoad, type Load, type RequestRecord } from "./load-generator.js";

/** The fixture app every replacement test serves. */
export const PID_APP = "test/fixtures/supervisor/pid-app.ts";

/** Keep-alive loops (connections reused across the replacement) and fresh-connection loops. */
export function loadAgainst(port: number): Load[] {
  const url = `http://127.0.0.1:${port}/work?ms=5`;
  return [
    startLoad({ url, connections: 3, mode: "keep-alive", maxMs: 30_000 }),
    startLoad({ url, connections: 2, mode: "fresh", maxMs: 30_000 }),
  ];
}

/** Stops every load; all their records. */
export async function stopAll(loads: Load[]): Promise<RequestRecord[]> {
  return (await Promise.all(loads.map((load) => load.stop()))).flat();
}

/** Pids that answered any of the loads' requests sent after `since`. */
function answeredSince(loads: Load[], since: number): Set<number> {
  const pids = new Set<number>();
  for (const load of loads) for (const record of load.records) if (record.sentAt > since && record.pid !== undefined && record.error === undefined) pids.add(record.pid);
  return pids;
}

/** Waits (bounded) until the loads have been answered by `count` workers none of which is in `old`. */
export async function waitForNewWorkers(loads: Load[], old: Set<number>, since: number, count: number): Promise<Set<number>> {
  for (let i = 0; i < 300; i++) {
    const fresh = [...answeredSince(loads, since)].filter((pid) => !old.has(pid));
    if (fresh.length >= count) return new Set(fresh);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return new Set([...answeredSince(loads, since)].filter((pid) => !old.has(pid)));
}

/** How many workers the master has logged as stopped after being asked to (replaced or retired). */
export const stoppedWorkers = (master: Master): number => master.logs().filter((line) => line.msg === "supervisor: retired worker exited").length;

/**
 * Whether the kernel moves connections queued on a closing SO_REUSEPORT listener to another one
 * (`net.ipv4.tcp_migrate_req`, Linux ≥ 5.14). uWS workers each have their own listener; without
 * this, a connection still in a stopping worker's accept queue is reset. node:cluster workers
 * share the master's one listener and are not affected.
 */
export function reusePortMigrates(): boolean {
  try {
    return readFileSync("/proc/sys/net/ipv4/tcp_migrate_req", "utf8").trim() === "1";
  } catch {
    return false;
  }
}

/**
 * The failures a replacement may cause: none, except (uWS without `tcp_migrate_req`) fresh
 * connections reset before any response, the kernel's doing described above.
 */
export function unexpectedFailures(server: "node" | "uws", records: readonly RequestRecord[]): RequestRecord[] {
  const tolerated = server === "uws" && !reusePortMigrates();
  return records.filter((r) => {
    if (r.error === undefined && r.status !== undefined && r.status < 300) return false;
    return !(tolerated && r.mode === "fresh" && r.headersAt === undefined && /ECONNRESET|UND_ERR_SOCKET/.test(r.error ?? ""));
  });
}
