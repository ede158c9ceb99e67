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
  /** The two request counts, smaller first. */
  requests: [number, number];
  /**
   * Connections the driver keeps busy. Default 1: one request at a time, so every request takes
   * the same path through the event loop (one wake-up, one read, one write) in every run. With
   * several, how requests batch per wake-up depends on timing, and the same pair measured 1.4×
   * apart between runs on a loaded machine; sequential runs of bare node:http repeat within 2 %.
   */
  connections: number;
  /**
   * How many times each pair is measured; the median is reported. A garbage collection that lands
   * in one run of a pair and not the other throws that pair's difference (a laminar `/deps` once
   * came out at 26.6k, below its own `/hello`); the median of three is immune to one such run.
   */
  repeat: number;
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
  --requests N1,N2     request counts of the two runs per pair (default 3000,9000: the first thousand requests still tier up the JIT)
  --connections N      connections, each with one request in flight (default 1: sequential, repeatable)
  --repeat N           measure each pair N times and report the median (default 1; 3 outvotes a GC-thrown pair)
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
      requests: { type: "string" },
      connections: { type: "string" },
      repeat: { type: "string" },
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

  let requests: [number, number] = [3000, 9000];
  if (values.requests !== undefined) {
    const parts = values.requests.split(",").map((s) => s.trim());
    const numbers = parts.map(Number);
    if (parts.length !== 2 || !numbers.every((n) => Number.isInteger(n) && n >= 1)) {
      throw new Error(`--requests takes two positive integers N1,N2, got ${values.requests}`);
    }
    if (numbers[0] === numbers[1]) throw new Error(`--requests: N1 and N2 must differ (the count per request is their difference), got ${values.requests}`);
    requests = [Math.min(numbers[0]!, numbers[1]!), Math.max(numbers[0]!, numbers[1]!)];
  }
  let connections = 1;
  if (values.connections !== undefined) {
    connections = Number(values.connections);
    if (!Number.isInteger(connections) || connections < 1 || connections > 256) {
      throw new Error(`--connections takes an integer from 1 to 256, got ${values.connections}`);
    }
  }
  let repeat = 1;
  if (values.repeat !== undefined) {
    repeat = Number(values.repeat);
    if (!Number.isInteger(repeat) || repeat < 1 || repeat > 20) throw new Error(`--repeat takes an integer from 1 to 20, got ${values.repeat}`);
  }
  return { help: values.help === true, only, workloads, requests, connections, repeat };
}
