/**
 * Sends an EXACT number of requests (not a duration: the instruction count is compared between two
 * request counts) to one workload, then prints `{"sent":N,"statuses":{"200":N}}` on stdout. Run as
 * its own process, pinned to core 1 by `instruction-count.ts`, so the server under callgrind keeps
 * core 0 to itself.
 *
 * `connections` workers share an undici `Pool` (that many connections, no pipelining), each
 * awaiting a response and reading its body before sending the next; one by default (see
 * `InstructionOptions.connections` for why).
 *
 * Usage: `node instruction-driver.js '<DriverSpec as JSON>'`.
 *
 * @module
 */
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Pool } from "undici";

/** What the driver sends. */
export interface DriverSpec {
  baseUrl: string;
  method: "GET" | "POST";
  path: string;
  body?: string;
  requests: number;
  connections: number;
}

/** What the driver reports: requests sent and how many got each status. */
export interface DriverResult {
  sent: number;
  statuses: Record<string, number>;
}

/** Sends `spec.requests` requests over `spec.connections` connections; resolves with the statuses seen. */
export async function drive(spec: DriverSpec): Promise<DriverResult> {
  const pool = new Pool(spec.baseUrl, { connections: spec.connections, pipelining: 1 });
  const statuses: Record<string, number> = {};
  let sent = 0;
  const headers = spec.body === undefined ? undefined : { "content-type": "application/json" };
  const worker = async (): Promise<void> => {
    // `sent` is claimed before the await, so the workers together send exactly `requests`.
    while (sent < spec.requests) {
      sent++;
      const response = await pool.request({ method: spec.method, path: spec.path, headers, body: spec.body });
      await response.body.text();
      statuses[response.statusCode] = (statuses[response.statusCode] ?? 0) + 1;
    }
  };
  try {
    await Promise.all(Array.from({ length: spec.connections }, worker));
  } finally {
    await pool.close();
  }
  return { sent, statuses };
}

// Entry point when run as a script (not when imported by a test).
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const spec = JSON.parse(process.argv[2] ?? "null") as DriverSpec;
  process.stdout.write(JSON.stringify(await drive(spec)) + "\n");
}
