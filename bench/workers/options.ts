/**
 * The command line of `npm run bench:workers` (`node dist/bench/workers/run.js`).
 *
 * @module
 */
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import type { ToolName } from "../load-generator.js";

/** The scenarios the bench can run. */
export const SCENARIOS = ["throughput", "blocking", "postgres"] as const;
/** One scenario. */
export type Scenario = (typeof SCENARIOS)[number];

/** What a run does. */
export interface WorkersOptions {
  /** About a minute: one 1 s sample per point at N = 1, cores, 2 × cores; node:http and uWS; throughput and blocking. */
  quick: boolean;
  tool: ToolName | undefined;
  /** Worker counts measured: 1 … `maxWorkers` (with `--quick`: 1, the cores, `maxWorkers`). */
  maxWorkers: number;
  servers: Array<"node" | "uws">;
  scenarios: Scenario[];
  /** Samples per point (the median is reported). */
  samples: number;
  /** Seconds per sample. */
  duration: number;
  connections: number;
  /** PostgreSQL URL for the `postgres` scenario (an admin role that may create roles). */
  postgresUrl: string;
}

/** Usage text. */
export const USAGE = `usage: node dist/bench/workers/run.js [options]
  --quick                 about a minute: 1 sample × 1 s per point, throughput and blocking,
                          N = 1, cores and 2 × cores only
  --tool wrk|autocannon   load generator (default: wrk when on PATH, else autocannon)
  --max-workers N         measure 1..N workers (default 2 × cores = ${2 * cpus().length})
  --servers node,uws      connection servers (default both)
  --scenarios a,b         throughput, blocking, postgres (default throughput,blocking,postgres;
                          postgres is skipped with a message when PostgreSQL is not reachable)
  --samples N             samples per point, median reported (default 3)
  --duration S            seconds per sample (default 3)
  --connections N         wrk connections (default 64)
  --postgres URL          admin URL for the postgres scenario (default $BENCH_POSTGRES_URL,
                          else postgres://postgres@127.0.0.1:5432/test)`;

function positiveInteger(flag: string, value: string | undefined): number {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n) || n < 1) throw new Error(`${flag} takes an integer ≥ 1, got ${value ?? "nothing"}`);
  return n;
}

function list<T extends string>(flag: string, value: string | undefined, allowed: readonly T[]): T[] {
  const items = (value ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
  const wrong = items.filter((s) => !allowed.includes(s as T));
  if (items.length === 0 || wrong.length > 0) throw new Error(`${flag} takes a comma-separated list of ${allowed.join(", ")}, got ${value ?? "nothing"}`);
  return [...new Set(items)] as T[];
}

/**
 * Parses the arguments after the script name (node's `util.parseArgs`, strict: an unknown flag or a
 * missing value is an error).
 *
 * @throws with a message naming the bad flag
 */
export function parseWorkersOptions(argv: readonly string[], cores = cpus().length, env: NodeJS.ProcessEnv = process.env): WorkersOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        quick: { type: "boolean" },
        tool: { type: "string" },
        "max-workers": { type: "string" },
        servers: { type: "string" },
        scenarios: { type: "string" },
        samples: { type: "string" },
        duration: { type: "string" },
        connections: { type: "string" },
        postgres: { type: "string" },
      },
    }));
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${USAGE}`);
  }
  const text = (name: string): string | undefined => values[name] as string | undefined;
  const quick = values.quick === true;
  const tool = text("tool");
  if (tool !== undefined && tool !== "wrk" && tool !== "autocannon") throw new Error(`--tool takes wrk or autocannon, got ${tool}`);
  const postgres = text("postgres");
  if (postgres !== undefined && !/^postgres(ql)?:\/\//.test(postgres)) throw new Error(`--postgres takes a postgres:// URL, got ${postgres}`);
  const integer = (name: string, fallback: number): number => (text(name) === undefined ? fallback : positiveInteger(`--${name}`, text(name)));
  return {
    quick,
    tool,
    maxWorkers: integer("max-workers", 2 * cores),
    servers: text("servers") === undefined ? ["node", "uws"] : list("--servers", text("servers"), ["node", "uws"] as const),
    scenarios: text("scenarios") === undefined ? (quick ? ["throughput", "blocking"] : [...SCENARIOS]) : list("--scenarios", text("scenarios"), SCENARIOS),
    samples: integer("samples", quick ? 1 : 3),
    duration: integer("duration", quick ? 1 : 3),
    connections: integer("connections", 64),
    postgresUrl: postgres ?? env.BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test",
  };
}

/** The worker counts a run measures: 1 … max, or with `--quick` 1, the cores and max. */
export function workerCounts(options: Pick<WorkersOptions, "quick" | "maxWorkers">, cores = cpus().length): number[] {
  if (!options.quick) return Array.from({ length: options.maxWorkers }, (_, i) => i + 1);
  return [...new Set([1, Math.min(cores, options.maxWorkers), options.maxWorkers])].sort((a, b) => a - b);
}
