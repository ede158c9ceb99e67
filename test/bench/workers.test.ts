/**
 * The workers bench without load: its command line, the worker counts it measures, the reduction
 * of samples to a point, the tables, the chart (well-formed, hostile labels escaped), the bench
 * role's URL, the refusal count, and the process-tree reader on a real child. No timing asserts.
 */
import t from "tap";
import { spawn } from "node:child_process";
import { parseWorkersOptions, workerCounts } from "../../bench/workers/options.js";
import { contended, reduceSamples, type RawSample } from "../../bench/workers/point.js";
import { formatPointTable, groupPoints } from "../../bench/workers/table.js";
import { renderWorkersChart } from "../../bench/workers/chart.js";
import { roleUrl } from "../../bench/workers/bench-role.js";
import { linesWith } from "../../bench/workers/pool-scenario.js";
import { formatPoolReport } from "../../bench/workers/pool-table.js";
import { childPids } from "../../bench/workers/serve-master.js";
import type { ServeSpec } from "../../bench/workers/serve-master.js";

t.test("options: defaults follow the cores; --quick is small; bad flags are named", async (t) => {
  const full = parseWorkersOptions([], 2, {});
  t.equal(full.maxWorkers, 4, "2 × cores");
  t.strictSame(full.servers, ["node", "uws"]);
  t.strictSame(full.scenarios, ["throughput", "blocking", "postgres"]);
  t.equal(full.postgresUrl, "postgres://postgres@127.0.0.1:5432/test");
  t.strictSame(workerCounts(full, 2), [1, 2, 3, 4]);
  const quick = parseWorkersOptions(["--quick"], 2, {});
  t.strictSame([quick.samples, quick.duration], [1, 1]);
  t.strictSame(quick.scenarios, ["throughput", "blocking"], "no PostgreSQL in a quick run");
  t.strictSame(workerCounts(quick, 2), [1, 2, 4], "1, the cores, 2 × cores");
  t.strictSame(workerCounts({ quick: true, maxWorkers: 1 }, 2), [1]);
  const custom = parseWorkersOptions(["--servers", "uws", "--scenarios", "blocking,throughput", "--max-workers", "3", "--postgres", "postgresql://a@h/db"], 2, { BENCH_POSTGRES_URL: "postgres://x@y/z" });
  t.strictSame([custom.servers, custom.scenarios, custom.maxWorkers, custom.postgresUrl], [["uws"], ["blocking", "throughput"], 3, "postgresql://a@h/db"]);
  t.equal(parseWorkersOptions([], 2, { BENCH_POSTGRES_URL: "postgres://x@y/z" }).postgresUrl, "postgres://x@y/z");
  t.throws(() => parseWorkersOptions(["--servers", "apache"]), /--servers takes a comma-separated list of node, uws, got apache/);
  t.throws(() => parseWorkersOptions(["--scenarios", ""]), /--scenarios/);
  t.throws(() => parseWorkersOptions(["--max-workers", "0"]), /--max-workers takes an integer ≥ 1, got 0/);
  t.throws(() => parseWorkersOptions(["--samples", "1.5"]), /--samples/);
  t.throws(() => parseWorkersOptions(["--postgres", "mysql://x"]), /--postgres takes a postgres:\/\/ URL/);
  t.throws(() => parseWorkersOptions(["--tool", "ab"]), /--tool takes wrk or autocannon/);
  t.throws(() => parseWorkersOptions(["--fast"]), /Unknown option '--fast'[\s\S]*usage:/);
  t.throws(() => parseWorkersOptions(["--samples"]), /--samples/, "a flag without its value");
});

function raw(rps: number, p99: number, workerRss: number[], master: number, errors = 0): RawSample {
  return {
    main: { rps, p50Ms: 1, p99Ms: p99, errors, generatorCpu: 0.3, seconds: 1 },
    side: { rps: rps / 100, p50Ms: 20, p99Ms: 40, errors: 1, generatorCpu: 0.3, seconds: 1 },
    usage: { workerRssMB: workerRss, masterRssMB: master, totalRssMB: 0, serverCores: 1.5 },
  };
}

const spec = (workers: number): Pick<ServeSpec, "workers" | "server"> & ServeSpec => ({ target: "x.js", workers, server: "node", port: 1 });

t.test("a point: median req/s and p99, peak RSS per worker, errors summed with the side load's", async (t) => {
  const point = reduceSamples("blocking", { spec: spec(2) }, [raw(100, 9, [50, 60], 40, 2), raw(300, 3, [55, 58], 42), raw(200, 5, [52, 61], 41)], { sideRoute: "GET /block" });
  t.equal(point.rps, 200);
  t.equal(point.p99Ms, 5);
  t.strictSame(point.workerRssMB, [55, 61], "each worker's peak");
  t.equal(point.masterRssMB, 42);
  t.equal(point.totalRssMB, 42 + 55 + 61);
  t.equal(point.errors, 2 + 3, "main errors plus one side error per sample");
  t.equal(point.samples, 3);
  t.equal(point.workers, 2);
  const single = reduceSamples("throughput", { spec: spec(1) }, [raw(100, 9, [80], 0)]);
  t.equal(single.masterRssMB, 0, "N = 1 runs without a master");
  t.equal(single.totalRssMB, 80);
});

t.test("a point is called contended when the tree (and generator) got less CPU than they could use", async (t) => {
  t.notOk(contended({ workers: 1, serverCores: 0.98, generatorCpu: 0.2 }, 2));
  t.ok(contended({ workers: 1, serverCores: 0.5, generatorCpu: 0.2 }, 2), "one worker at half a core");
  t.notOk(contended({ workers: 4, serverCores: 1.6, generatorCpu: 0.3 }, 2));
  t.ok(contended({ workers: 4, serverCores: 1.0, generatorCpu: 0.1 }, 2), "four workers and wrk on 1.1 of 2 cores");
});

t.test("tables: one per scenario and server, a row per N, the side route's column when there is one", async (t) => {
  const points = [
    reduceSamples("throughput", { spec: spec(1) }, [raw(1000, 2, [80], 0)]),
    reduceSamples("throughput", { spec: spec(2) }, [raw(1800, 3, [80, 81], 70)]),
    { ...reduceSamples("blocking", { spec: spec(1) }, [raw(500, 800, [90], 0)]), extra: { sideRoute: "GET /block?ms=20", sideRps: 45, aloneRps: 30000, aloneP99Ms: 4.5 } },
  ];
  const groups = groupPoints(points);
  t.strictSame(groups.map((g) => [g.scenario, g.server, g.points.length]), [["throughput", "node", 2], ["blocking", "node", 1]]);
  const table = formatPointTable("throughput", groups[0]!.points);
  t.match(table, /^2\s+1,800\s/m);
  t.match(table, /80\/81/, "per-worker RSS");
  t.match(table, /none/, "no master at N = 1");
  t.notMatch(table, /req\/s\s+GET/);
  t.match(formatPointTable("blocking", groups[1]!.points), /GET \/block\?ms=20 req\/s\s+alone req\/s\s+alone p99[\s\S]*\s45\s+30,000\s+4\.50$/m);
});

t.test("chart: well-formed SVG, every category and series, hostile labels escaped", async (t) => {
  const svg = renderWorkersChart("t <&> \"q\"", "sub", [
    { title: "req/s <x>", unit: "req/s", series: [{ label: "node:http", values: new Map([["N=1", 1500], ["N=2", NaN]]) }, { label: "u<ws>", values: new Map([["N=1", 2500]]) }] },
    { title: "503", unit: "count", series: [{ label: "node:http", values: new Map([["4×10", 409]]) }] },
  ]);
  t.match(svg, /^<\?xml[\s\S]*<\/svg>\n$/);
  t.notMatch(svg, /<x>|u<ws>|<&>/, "no raw markup from labels");
  t.match(svg, /t &lt;&amp;&gt; &quot;q&quot;/);
  t.match(svg, /u&lt;ws&gt;/);
  for (const category of ["N=1", "N=2", "4×10"]) t.match(svg, new RegExp(`>${category}</text>`));
  t.match(svg, />1\.5k</);
  t.match(svg, />409</, "a count is a whole number");
  t.match(svg, />–</, "a missing value is a dash, not NaN");
  t.notMatch(svg, /NaN/);
});

t.test("the bench role's URL keeps host and database, drops the admin's credentials, sets search_path", async (t) => {
  const url = new URL(roleUrl("postgres://admin:secret@db.example:6543/test?sslmode=disable"));
  t.equal(url.username, "bench_pool");
  t.equal(url.password, "");
  t.equal(url.host, "db.example:6543");
  t.equal(url.pathname, "/test");
  t.equal(url.searchParams.get("options"), "-c search_path=bench_pool");
  t.equal(url.searchParams.get("sslmode"), null);
});

t.test("refusals are counted per log line, however often a line repeats the phrase", async (t) => {
  const line = '{"msg":"too many connections for role","err":{"message":"too many connections for role \\"bench_pool\\"","stack":"too many connections"}}';
  t.equal(linesWith([line, '{"msg":"ok"}', line, ""].join("\n"), "too many connections"), 2);
  t.equal(linesWith("", "too many connections"), 0);
});

t.test("the pool table names the rule, or says why the scenario was skipped", async (t) => {
  t.equal(formatPoolReport({ skipped: "PostgreSQL scenario skipped: ECONNREFUSED" }), "PostgreSQL scenario skipped: ECONNREFUSED");
  const point = reduceSamples("postgres", { spec: spec(4) }, [raw(400, 600, [80, 80, 80, 80], 70, 409)], { poolSize: 10, product: 40, limit: 8, peakConnections: 8, refusals: 1410 });
  const table = formatPoolReport({ limit: 8, role: "bench_pool", server: { maxConnections: 100, superuserReserved: 3, inUse: 5 }, poolTimeoutMs: 5000, points: [point] });
  t.match(table, /^4\s+10\s+40\s+8\s+8\s+400\s/m);
  t.match(table, /rule: workers × pool size ≤/);
  t.match(table, /max_connections 100 − 3 reserved/);
});

t.test("childPids reads a process's children from /proc", async (t) => {
  const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 20000)"], { stdio: "ignore" });
  t.teardown(() => void child.kill("SIGKILL"));
  await new Promise((resolve) => child.once("spawn", resolve));
  t.ok(childPids(process.pid).includes(child.pid!), "the spawned child is listed");
  t.strictSame(childPids(2 ** 22 + 12345), [], "a pid that does not exist has none");
});
