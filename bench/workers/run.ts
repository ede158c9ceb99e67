/**
 * `npm run bench:workers`: what adding `laminar serve --workers N` does, measured (issue 11).
 *
 * For N = 1 … 2 × cores, on node:http and on uWebSockets.js, each point a fresh `laminar serve`
 * under bounded wrk load (a warm-up second, then samples; medians reported):
 *
 * 1. `throughput`: the bookstore's `GET /books?limit=20`: req/s, p50/p99, errors, total and
 *    per-worker RSS (`scenarios.ts`).
 * 2. `blocking`: `GET /hello` beside a route that burns 20 ms of CPU synchronously.
 * 3. `postgres`: the bookstore on PostgreSQL, workers × pool size against a connection limit
 *    (`pool-scenario.ts`).
 *
 * Where things run: the served tree is not pinned (its workers may use every core: that is the
 * point of adding them); wrk runs one thread pinned to the last core, so on a small machine it
 * takes part of a core the workers would otherwise get. Its measured share is printed and saved.
 *
 * Output: tables on stdout, `bench/results/workers-<date>.json` and `.svg`. Flags: {@link USAGE}.
 *
 * @module
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { chooseTool } from "../load-generator.js";
import { CONTENDERS } from "../contenders.js";
import { CAN_PIN } from "../server-process.js";
import { repoRoot } from "../workloads.js";
import { parseWorkersOptions, workerCounts, USAGE } from "./options.js";
import { contended, type Point } from "./point.js";
import { blockingScenario, throughputScenario, BLOCK_MS } from "./scenarios.js";
import { formatPointTable, groupPoints } from "./table.js";
import { poolScenario, type PoolReport } from "./pool-scenario.js";
import { formatPoolReport } from "./pool-table.js";
import { renderWorkersChart, type Panel } from "./chart.js";
import { describeMachine } from "../machine.js";
import { unusedResultStem } from "../result-file.js";


const SERVER_LABEL = { node: "node:http", uws: "uWS" } as const;

function panel(points: readonly Point[], scenario: string, title: string, unit: string, value: (p: Point) => number): Panel | undefined {
  const own = points.filter((p) => p.scenario === scenario);
  if (own.length === 0) return undefined;
  const servers = [...new Set(own.map((p) => p.server))];
  return {
    title,
    unit,
    series: servers.map((server) => ({ label: SERVER_LABEL[server], values: new Map(own.filter((p) => p.server === server).map((p) => [`N=${p.workers}`, value(p)])) })),
  };
}

function poolPanel(pool: PoolReport | undefined, title: string, unit: string, value: (p: Point) => number): Panel | undefined {
  if (pool === undefined || "skipped" in pool) return undefined;
  return { title: `PostgreSQL, workers×pool vs limit ${pool.limit}: ${title}`, unit, series: [{ label: "node:http", values: new Map(pool.points.map((p) => [`${p.workers}×${p.extra.poolSize}`, value(p)])) }] };
}

async function main(): Promise<number> {
  if (process.argv.includes("--help")) {
    console.log(USAGE);
    return 0;
  }
  const options = parseWorkersOptions(process.argv.slice(2));
  // uWebSockets.js is an optional dependency: without it, node:http alone, said once.
  const uwsProblem = CONTENDERS.find((c) => c.id === "laminar-uws")?.unavailable?.();
  if (uwsProblem !== undefined && options.servers.includes("uws")) {
    console.log(`skipping uWS: ${uwsProblem}`);
    options.servers = options.servers.filter((s) => s !== "uws");
    if (options.servers.length === 0) throw new Error("no server to measure");
  }
  const tool = chooseTool(options.tool);
  const cores = cpus().length;
  const generatorCore = 1; // runLoad pins the generator to core 1
  const placement = CAN_PIN
    ? `served tree NOT pinned (master and workers may use cores 0-${cores - 1}); ${tool} pinned to core ${generatorCore}, so it shares that core with the workers`
    : `one core: the served tree and ${tool} share it`;
  console.log(
    `laminar bench:workers: ${describeMachine()}; N = ${workerCounts(options).join(", ")} on ${options.servers.map((s) => SERVER_LABEL[s]).join(" and ")}; ` +
      `${tool}, ${options.connections} connections, ${options.samples} sample(s) × ${options.duration} s per point after a 1 s warm-up\n${placement}`,
  );
  const log = (line: string): void => console.log(line);
  const points: Point[] = [];
  let pool: PoolReport | undefined;
  if (options.scenarios.includes("throughput")) points.push(...(await throughputScenario(tool, options, log)));
  if (options.scenarios.includes("blocking")) points.push(...(await blockingScenario(tool, options, log)));
  if (options.scenarios.includes("postgres")) pool = await poolScenario(tool, options, log);

  console.log("");
  for (const group of groupPoints(points)) {
    const what = group.scenario === "throughput" ? "bookstore GET /books?limit=20" : `GET /hello beside GET /block?ms=${BLOCK_MS} (1 connection, 20 ms CPU each)`;
    console.log(formatPointTable(`${group.scenario}, ${SERVER_LABEL[group.server as "node" | "uws"]}: ${what}`, group.points) + "\n");
  }
  const generatorShares = points.map((p) => p.generatorCpu).filter(Number.isFinite);
  const generatorShare = generatorShares.length === 0 ? NaN : generatorShares.reduce((a, b) => a + b, 0) / generatorShares.length;
  const shareLine = `load generator: ${tool} on core ${generatorCore} of ${cores}, on average ${Math.round(generatorShare * 100)}% of that core (${Math.round((generatorShare / cores) * 100)}% of the machine) — the workers had the rest`;
  if (points.length > 0) console.log(shareLine);
  if (pool !== undefined) console.log("\n" + formatPoolReport(pool));
  const busy = points.filter((p) => contended(p, cores));
  if (busy.length > 0) {
    console.log(
      `\nNOTE: the machine was busy with other work during ${busy.length} of ${points.length} points ` +
        `(${busy.map((p) => `${p.scenario} ${p.server} N=${p.workers}`).join(", ")}): the tree got less CPU than it could use, so those req/s understate it (see srv cores)`,
    );
  }
  const errors = points.reduce((sum, p) => sum + p.errors, 0);
  if (errors > 0) console.log(`\nWARNING: ${errors} errors (non-2xx or socket errors) in the HTTP scenarios`);

  const date = new Date().toISOString();
  const stem = unusedResultStem(`workers-${new Date().toISOString().slice(0, 10)}${options.quick ? "-quick" : ""}`);
  mkdirSync(join(repoRoot, "bench/results"), { recursive: true });
  const report = { date, machine: describeMachine(), cores, tool, placement, generatorCore, generatorShare, options, contendedPoints: busy.length, points: points.map((p) => ({ ...p, contended: contended(p, cores) })), pool };
  writeFileSync(`${stem}.json`, JSON.stringify(report, null, 2) + "\n");
  const panels = [
    panel(points, "throughput", "bookstore GET /books?limit=20", "req/s", (p) => p.rps),
    panel(points, "throughput", "total RSS, master + workers", "MB", (p) => p.totalRssMB),
    panel(points, "blocking", `GET /hello p99 beside a ${BLOCK_MS} ms blocking route`, "ms", (p) => p.p99Ms),
    panel(points, "blocking", `GET /hello beside a ${BLOCK_MS} ms blocking route`, "req/s", (p) => p.rps),
    poolPanel(pool, "throughput", "req/s", (p) => p.rps),
    poolPanel(pool, "503 responses", "count", (p) => p.errors),
  ].filter((p): p is Panel => p !== undefined);
  if (panels.length > 0) {
    writeFileSync(
      `${stem}.svg`,
      renderWorkersChart(`laminar serve --workers N, ${date.slice(0, 10)}${options.quick ? " (quick)" : ""}`, `${describeMachine()}; ${tool} on core ${generatorCore}, ~${Math.round(generatorShare * 100)}% of it; tree unpinned`, panels),
    );
  }
  console.log(`\nwritten ${stem}.json${panels.length > 0 ? ` and ${stem}.svg` : ""}`);
  return 0;
}

try {
  process.exitCode = await main();
} catch (error) {
  console.error(`bench:workers failed: ${(error as Error).message}`);
  process.exitCode = 1;
}
