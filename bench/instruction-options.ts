/**
 * The command line of `npm run bench:instructions` (`node dist/bench/instructions.js`), parsed
 * with `node:util`'s `parseArgs` into options.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { CONTENDERS } from "./contenders.js";
import { WORKLOADS, type Workload } from "./workloads.js";

/** What a run measures. */
export interface InstructionOptions {
  help: boolean;
  /** Contender ids, in the order given. */
  only: string[];
  /** Workloads, in report order. */
  workloads: Workload[];
  /** Requests sent before counting: the JIT is still optimising after 3,000 under callgrind. */
  warmup: number;
  /** Requests per measured window. */
  window: number;
  /** Measured windows per contender × workload; the median is reported. */
  windows: number;
  /**
   * Connections the driver keeps busy. Default 1: one request at a time, so every request takes
   * the same path through the event loop (one wake-up, one read, one write) in every run. With
   * several, how requests batch per wake-up depends on timing, and the same pair measured 1.4×
   * apart between runs on a loaded machine; sequential runs of bare node:http repeat within 2 %.
   */
  connections: number;
}

/** Contenders measured when `--only` is not given. */
export const DEFAULT_CONTENDERS = ["laminar-node", "bare-node", "fastify"] as const;

/**
 * A workload's short id for `--workloads`: the first path segment, prefixed `post-` for a POST
 * (`hello`, `items`, `post-items`, `deps`).
 */
export function workloadId(workload: Workload): string {
  const segment = workload.path.split(/[/?]/)[1] ?? "";
  return workload.method === "POST" ? `post-${segment}` : segment;
}

/** Usage text. */
export const USAGE = `usage: node dist/bench/instructions.js [options]
Counts user-space instructions per request of each contender's server under valgrind's callgrind.
  --only a,b           contenders (default ${DEFAULT_CONTENDERS.join(",")}); node ones:
                       ${CONTENDERS.filter((c) => c.id !== "fastapi").map((c) => c.id).join(", ")}
  --workloads a,b      workloads (default all): ${WORKLOADS.map(workloadId).join(", ")}
  --warmup N           requests before counting (default 12000: under callgrind node still optimises after 3,000)
  --window N           requests per measured window (default 3000)
  --windows K          measured windows; the median is reported (default 5)
  --connections N      connections, each with one request in flight (default 1: sequential, repeatable)
  --help               this text`;

const list = (flag: string, value: string): string[] => {
  const items = value.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (items.length === 0) throw new Error(`${flag} takes a comma-separated list`);
  return items;
};

/**
 * Parses the arguments after the script name.
 *
 * @throws with a message naming the bad flag or value
 */
export function parseInstructionOptions(argv: readonly string[]): InstructionOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      only: { type: "string" },
      workloads: { type: "string" },
      warmup: { type: "string" },
      window: { type: "string" },
      windows: { type: "string" },
      connections: { type: "string" },
      help: { type: "boolean", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const only = values.only === undefined ? [...DEFAULT_CONTENDERS] : list("--only", values.only);
  const unknown = only.filter((id) => !CONTENDERS.some((c) => c.id === id));
  if (unknown.length > 0) throw new Error(`--only: unknown contender(s) ${unknown.join(", ")}; known: ${CONTENDERS.map((c) => c.id).join(", ")}`);

  let workloads = [...WORKLOADS];
  if (values.workloads !== undefined) {
    const ids = list("--workloads", values.workloads);
    const bad = ids.filter((id) => !WORKLOADS.some((w) => workloadId(w) === id || w.name === id));
    if (bad.length > 0) throw new Error(`--workloads: unknown workload(s) ${bad.join(", ")}; known: ${WORKLOADS.map(workloadId).join(", ")}`);
    workloads = WORKLOADS.filter((w) => ids.includes(workloadId(w)) || ids.includes(w.name));
  }

  const count = (flag: string, value: string | undefined, fallback: number, min: number, max: number): number => {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${flag} takes an integer from ${min} to ${max}, got ${value}`);
    return n;
  };
  const warmup = count("--warmup", values.warmup, 12_000, 0, 1_000_000);
  const window = count("--window", values.window, 3_000, 1, 1_000_000);
  const windows = count("--windows", values.windows, 5, 1, 50);
  const connections = count("--connections", values.connections, 1, 1, 256);
  return { help: values.help === true, only, workloads, warmup, window, windows, connections };
}
