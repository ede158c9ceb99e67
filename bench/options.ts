/**
 * The command line of `npm run bench` (`node dist/bench/run.js`), parsed into options.
 *
 * @module
 */
import type { ToolName } from "./load-generator.js";

/** What a run does. */
export interface BenchOptions {
  /** A ≈30-second smoke run: one round of 1 s samples, no warm-up, a short layer measurement. */
  quick: boolean;
  /** Load generator; undefined: wrk when on PATH, else autocannon. */
  tool: ToolName | undefined;
  /** Contender ids to run (all when undefined). */
  only: string[] | undefined;
  rounds: number;
  /** Seconds per sample (whole seconds: wrk's resolution). */
  duration: number;
  /** Seconds of warm-up per contender and workload before the first round. */
  warmup: number;
  connections: number;
  /** `"only"`: just the per-layer measurement; `"skip"`: no layer measurement. */
  layers: "include" | "only" | "skip";
}

/** Usage text. */
export const USAGE = `usage: node dist/bench/run.js [options]
  --quick              ≈30 s smoke run (1 round × 1 s, no warm-up)
  --tool wrk|autocannon  load generator (default: wrk when on PATH, else autocannon)
  --only a,b           contenders to run: laminar-node, laminar-uws, bare-node, bare-uws,
                       fastify, hono, express, fastapi
  --rounds N           interleaved rounds (default 5)
  --duration S         seconds per sample (default 3)
  --warmup S           warm-up seconds per contender and workload (default 2)
  --connections N      concurrent connections (default 64)
  --layers             only the per-layer cost measurement
  --no-layers          skip the per-layer cost measurement`;

function positiveInteger(flag: string, value: string | undefined, min = 1): number {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n) || n < min) throw new Error(`${flag} takes an integer ≥ ${min}, got ${value ?? "nothing"}`);
  return n;
}

/**
 * Parses the arguments after the script name.
 *
 * @throws with a message naming the bad flag
 */
export function parseOptions(argv: readonly string[]): BenchOptions {
  const quick = argv.includes("--quick");
  const options: BenchOptions = {
    quick,
    tool: undefined,
    only: undefined,
    rounds: quick ? 1 : 5,
    duration: quick ? 1 : 3,
    warmup: quick ? 0 : 2,
    connections: 64,
    layers: "include",
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = (): string | undefined => argv[++i];
    switch (flag) {
      case "--quick":
        break;
      case "--tool": {
        const tool = value();
        if (tool !== "wrk" && tool !== "autocannon") throw new Error(`--tool takes wrk or autocannon, got ${tool ?? "nothing"}`);
        options.tool = tool;
        break;
      }
      case "--only": {
        const list = (value() ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
        if (list.length === 0) throw new Error("--only takes a comma-separated list of contenders");
        options.only = list;
        break;
      }
      case "--rounds":
        options.rounds = positiveInteger(flag, value());
        break;
      case "--duration":
        options.duration = positiveInteger(flag, value());
        break;
      case "--warmup":
        options.warmup = positiveInteger(flag, value(), 0);
        break;
      case "--connections":
        options.connections = positiveInteger(flag, value());
        break;
      case "--layers":
        options.layers = "only";
        break;
      case "--no-layers":
        options.layers = "skip";
        break;
      default:
        throw new Error(`unknown option ${flag}\n${USAGE}`);
    }
  }
  return options;
}
