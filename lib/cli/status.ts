/**
 * `laminar status`: asks running masters, through their control sockets, for their workers, and
 * prints each worker's pid, state, uptime, requests served, memory and the request it is serving.
 *
 * @module
 */
import { connect } from "node:net";
import { readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { CONTROL_SOCKET_PREFIX, type MasterStatus } from "../supervisor/control-socket.js";
import { EXIT_USAGE } from "./usage-error.js";

/** Reads one master's status from its control socket; rejects if nothing answers within `timeoutMs`. */
export function queryStatus(path: string, timeoutMs = 2_000): Promise<MasterStatus> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    let text = "";
    socket.setEncoding("utf8");
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    socket.on("data", (chunk: string) => (text += chunk));
    socket.on("error", reject);
    socket.on("end", () => {
      try {
        resolve(JSON.parse(text) as MasterStatus);
      } catch {
        reject(new Error(`not a laminar control socket (answered ${JSON.stringify(text.slice(0, 80))})`));
      }
    });
  });
}

/** The default control sockets in `dir`: `laminar-<pid>.sock`, one per master started without `--control-socket`. */
export function findControlSockets(dir: string = tmpdir()): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((name) => name.startsWith(CONTROL_SOCKET_PREFIX) && name.endsWith(".sock")).map((name) => join(dir, name));
}

/** `3723000` → `1h 2m`, `61000` → `1m 1s`, `4200` → `4.2s`. */
export function formatDuration(ms: number): string {
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${Math.floor(seconds % 60)}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h ${minutes % 60}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

function formatBytes(bytes: number | undefined): string {
  return bytes === undefined ? "-" : `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

/** One master's status as a person reads it: a summary line, then a table of its workers. */
export function formatStatus(status: MasterStatus): string {
  const { master } = status;
  const header =
    `laminar master ${master.pid}: ${status.state}, up ${formatDuration(master.uptimeMs)}, app ${master.target}, ` +
    `server ${master.server}${master.url !== undefined ? ` on ${master.url}` : ""}\n` +
    `  workers ${status.workers.length} (target ${status.target}), restarts ${status.restarts}, reloads ${status.reloads}`;
  const rows = [["PID", "STATE", "UPTIME", "REQUESTS", "RSS", "SERVING"]];
  for (const worker of status.workers) {
    const serving = worker.request !== undefined ? `${worker.request.method} ${worker.request.path} (${formatDuration(worker.request.runningMs)})` : "-";
    rows.push([String(worker.pid), worker.state, formatDuration(worker.uptimeMs), String(worker.requests), formatBytes(worker.rss), serving]);
  }
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const table = rows.map((row) => `  ${row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join("  ")}`);
  return [header, ...table].join("\n");
}

/** What `laminar status` writes to. */
export interface StatusDeps {
  out(line: string): void;
  err(line: string): void;
  /** Where default control sockets are looked for; the OS temp directory in the CLI. */
  socketDir?: string;
}

/** Help of `laminar status`. */
export function statusHelp(): string {
  return [
    "Usage: laminar status [--control-socket PATH] [--json]",
    "",
    "Prints each running master's workers: pid, state, uptime, requests served, memory, and the request",
    "each is serving. Without --control-socket it asks every master started with the default socket",
    "(<tmpdir>/laminar-<pid>.sock) that this user can reach.",
    "",
    "  --control-socket PATH, -s PATH   the master's --control-socket",
    "  --json                           print the raw status objects, one JSON line per master",
    "",
    "Exit codes: 0 at least one master answered, 1 none did, 2 usage error.",
  ].join("\n");
}

/** Runs `laminar status <args>`; resolves with the exit code. */
export async function runStatus(args: readonly string[], deps: StatusDeps): Promise<number> {
  let values: { "control-socket"?: string; json?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: { "control-socket": { type: "string", short: "s" }, json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    deps.err(`laminar status: ${(error as Error).message}`);
    return EXIT_USAGE;
  }
  if (values.help === true) {
    deps.out(statusHelp());
    return 0;
  }
  const explicit = values["control-socket"];
  const paths = explicit !== undefined ? [explicit] : findControlSockets(deps.socketDir);
  let answered = 0;
  for (const path of paths) {
    try {
      const status = await queryStatus(path);
      deps.out(values.json === true ? JSON.stringify(status) : formatStatus(status));
      answered++;
    } catch (error) {
      // A default socket that does not answer was left by a master that was killed: not worth a line.
      if (explicit !== undefined) deps.err(`laminar status: ${path}: ${(error as Error).message}`);
    }
  }
  if (answered === 0 && explicit === undefined) deps.err("laminar status: no running laminar master found (is it running with --workers > 1 as this user?)");
  return answered > 0 ? 0 : 1;
}
