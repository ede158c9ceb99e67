/**
 * `npm run bench:instructions` without valgrind: parsing callgrind's total, the per-request
 * difference, the command line (bad values rejected), the table and targets, and the request
 * driver over a real socket (exactly N requests, statuses counted, the POST body delivered).
 *
 * No end-to-end run under valgrind: node alone takes 10–55 s to start under callgrind on the
 * project's 2-core machine, so one run cannot be bounded well under the file's 60 s. No timing asserts.
 */
import t from "tap";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { countInstructions, medianWindow, parseCallgrindTotal } from "../../bench/instruction-count.js";
import { DEFAULT_CONTENDERS, parseInstructionOptions, workloadId } from "../../bench/instruction-options.js";
import { checkInstructionTargets, formatInstructionTable, formatInstructionTargets, type PairResult } from "../../bench/instruction-report.js";
import { drive } from "../../bench/instruction-driver.js";
import { unusedResultStem } from "../../bench/result-file.js";
import { WORKLOADS, ITEM_BODY } from "../../bench/workloads.js";

// The shape of a real callgrind output file (valgrind 3.19, --dump-instr=no), trimmed.
const CALLGRIND_OUTPUT = `# callgrind format
version: 1
creator: callgrind-3.19.0
pid: 17476
cmd:  node --single-threaded wrap.mjs app.js
part: 1

desc: I1 cache: 
desc: Timerange: Basic block 0 - 301234567
desc: Trigger: Program termination

positions: line
events: Ir
summary: 2568143041


ob=(1) /usr/bin/node
fl=(1) ???
fn=(1) 0x0000000000a1b2c3
0 12345
totals: 2568143247
`;

t.test("the callgrind total is read from summary:, else totals:", async (t) => {
  t.equal(parseCallgrindTotal(CALLGRIND_OUTPUT), 2568143041, "summary: wins over totals:");
  t.equal(parseCallgrindTotal(CALLGRIND_OUTPUT.replace(/^summary:.*$/m, "")), 2568143247, "totals: when there is no summary:");
  t.equal(parseCallgrindTotal("events: Ir Dr\nsummary: 1554024061 99\n"), 1554024061, "several events: the first (Ir)");
  t.throws(() => parseCallgrindTotal("events: Ir\n0 12\n"), /no summary: or totals:/);
  t.throws(() => parseCallgrindTotal("# summary: 5\n"), /no summary/, "only at the start of a line");
  t.throws(() => parseCallgrindTotal(""), /no summary/);
});

t.test("instructions per request: the median window", async (t) => {
  const w = (instructions: number, requests = 3000) => ({ requests, instructions });
  t.equal(medianWindow([w(180_000_000), w(174_000_000), w(900_000_000)]), 60_000, "a window a major GC landed in does not decide it");
  t.equal(medianWindow([w(600), w(300, 10)]), 0.2 + (30 - 0.2) / 2, "even count: the mean of the middle two, each per its own request count");
  t.equal(medianWindow([w(72_000, 1)]), 72_000);
  t.throws(() => medianWindow([]), /no window/);
  t.throws(() => medianWindow([w(NaN)]), /no usable count/);
  t.throws(() => medianWindow([w(5), w(0)]), /no usable count/, "a window that counted nothing is an error, not a fast server");
});

t.test("command line", async (t) => {
  const defaults = parseInstructionOptions([]);
  t.strictSame(defaults.only, [...DEFAULT_CONTENDERS]);
  t.strictSame(defaults.only, ["laminar-node", "bare-node", "fastify"]);
  t.strictSame(defaults.workloads, [...WORKLOADS], "every workload, in report order");
  t.strictSame([defaults.warmup, defaults.window, defaults.windows], [12_000, 3_000, 5]);
  t.equal(defaults.connections, 1, "sequential by default: the repeatable mode");
  t.equal(parseInstructionOptions(["--connections", "16"]).connections, 16);
  t.equal(defaults.help, false);
  t.equal(parseInstructionOptions(["--help"]).help, true);

  t.strictSame(WORKLOADS.map(workloadId), ["hello", "items", "post-items", "deps"]);
  const some = parseInstructionOptions(["--only", "hono, express", "--workloads", "deps,hello", "--warmup", "0", "--window", "900", "--windows", "3"]);
  t.strictSame(some.only, ["hono", "express"]);
  t.strictSame(some.workloads.map((w) => w.name), ["GET /hello", "GET /deps"], "report order, not the order given");
  t.strictSame([some.warmup, some.window, some.windows], [0, 900, 3], "no warm-up is allowed (to see it)");
  t.strictSame(parseInstructionOptions(["--workloads=POST /items"]).workloads.map((w) => w.path), ["/items"], "a workload's full name works too");

  t.throws(() => parseInstructionOptions(["--only", "nginx"]), /unknown contender.*nginx/);
  t.throws(() => parseInstructionOptions(["--only", ","]), /comma-separated/);
  t.throws(() => parseInstructionOptions(["--workloads", "hello,upload"]), /unknown workload.*upload/);
  for (const [flag, bad] of [["--window", "0"], ["--window", "1.5"], ["--windows", "0"], ["--windows", "51"], ["--warmup", "-1"], ["--warmup", "x"], ["--window", ""]]) {
    t.throws(() => parseInstructionOptions([flag!, bad!]), new RegExp(flag!), `${flag} ${JSON.stringify(bad)} rejected`);
  }
  t.throws(() => parseInstructionOptions(["--requests", "3000,9000"]), /Unknown option/, "the first method's flag is gone");
  for (const bad of ["0", "1.5", "x", "-2", "1000"]) {
    t.throws(() => parseInstructionOptions(["--connections", bad]), /--connections/, `--connections ${JSON.stringify(bad)} rejected`);
  }
  t.throws(() => parseInstructionOptions(["--duration", "3"]), /Unknown option/);
  t.throws(() => parseInstructionOptions(["--only"]), /argument missing|requires/i);
  t.throws(() => parseInstructionOptions(["stray"]), /positional/i);
});

t.test("table and targets, from the lead's hand-measured numbers", async (t) => {
  const pair = (contender: string, workload: string, perRequest: number): PairResult => ({ contender, workload, windows: [perRequest], perRequest });
  const results = [
    pair("laminar-node", "GET /hello", 72_700),
    pair("bare-node", "GET /hello", 62_000),
    pair("laminar-node", "GET /items/:id", 62_200),
    pair("bare-node", "GET /items/:id", 71_500),
    pair("fastify", "GET /items/:id", 82_500),
    pair("laminar-node", "POST /items", 112_800),
    pair("bare-node", "POST /items", 108_100),
    pair("fastify", "POST /items", NaN), // failed
  ];
  const workloads = ["GET /hello", "GET /items/:id", "POST /items"];
  const checks = checkInstructionTargets(results, workloads);
  const find = (peer: string, workload: string) => checks.find((c) => c.target.includes(peer) && c.workload === workload);
  t.equal(find("bare", "GET /hello")?.met, false, "72.7k > 62.0k / 0.9");
  t.equal(find("bare", "GET /items/:id")?.met, true);
  t.equal(find("bare", "POST /items")?.met, true, "112.8k ≤ 108.1k / 0.9 = 120.1k");
  t.equal(find("Fastify", "GET /items/:id")?.met, true);
  t.equal(find("Fastify", "GET /hello"), undefined, "Fastify not measured: no check");
  t.equal(find("Fastify", "POST /items"), undefined, "a failed pair gives no check");
  t.equal(checks.length, 4);
  t.match(formatInstructionTargets(checks), /MISSED\s+laminar ≤ bare node:http \/ 0\.9\s+GET \/hello\s+1\.173 \(limit 1\.111\)/);
  t.match(formatInstructionTargets([]), /none measurable/);

  const table = formatInstructionTable(
    results,
    [
      { id: "laminar-node", label: "laminar node:http" },
      { id: "bare-node", label: "bare node:http" },
      { id: "fastify", label: "Fastify" },
    ],
    workloads,
  );
  t.match(table, /laminar node:http\s+72\.7k \(1\.00×\)\s+62\.2k \(1\.00×\)\s+112\.8k \(1\.00×\)/);
  t.match(table, /bare node:http\s+62\.0k \(0\.85×\)\s+71\.5k \(1\.15×\)\s+108\.1k \(0\.96×\)/);
  t.match(table, /Fastify\s+–\s+82\.5k \(1\.33×\)\s+–/, "missing and failed pairs shown as –");
  t.notMatch(table, /the windows/, "no window lines for a single window");

  const repeated = formatInstructionTable(
    [{ contender: "laminar-node", workload: "GET /deps", windows: [73_373, 26_553, 74_010], perRequest: 73_373 }],
    [{ id: "laminar-node", label: "laminar node:http" }],
    ["GET /deps"],
  );
  t.match(repeated, /laminar node:http\s+73\.4k/, "the median in the table");
  t.match(repeated, /GET \/deps\s+laminar-node\s+73\.4k \/ 26\.6k \/ 74\.0k/, "each window listed, the outlier visible");
});

t.test("result files never overwrite an earlier one", async (t) => {
  const dir = join(t.testdir(), "results");
  t.equal(unusedResultStem("2026-11-29-instructions", dir), join(dir, "2026-11-29-instructions"), "the plain name first (the directory is created)");
  writeFileSync(join(dir, "2026-11-29-instructions.json"), "{}");
  t.equal(unusedResultStem("2026-11-29-instructions", dir), join(dir, "2026-11-29-instructions-run2"));
  writeFileSync(join(dir, "2026-11-29-instructions-run2.json"), "{}");
  t.equal(unusedResultStem("2026-11-29-instructions", dir), join(dir, "2026-11-29-instructions-run3"));
  t.equal(unusedResultStem("2026-11-29", dir), join(dir, "2026-11-29"), "another name is not confused with it");
});

t.test("the driver sends exactly N requests and counts the statuses", async (t) => {
  const seen: { method?: string; url?: string; type?: string; body: string }[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk));
    req.on("end", () => {
      seen.push({ method: req.method, url: req.url, type: req.headers["content-type"], body });
      // Every 10th request fails, so a non-2xx answer shows up in the statuses.
      res.writeHead(seen.length % 10 === 0 ? 500 : 201, { "content-type": "application/json" }).end("{}");
    });
  });
  let connections = 0;
  server.on("connection", () => connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  const post = WORKLOADS.find((w) => w.method === "POST")!;

  const result = await drive({ baseUrl: `http://127.0.0.1:${port}`, method: "POST", path: post.path, body: post.body, requests: 103, connections: 16 });
  t.equal(result.sent, 103);
  t.strictSame(result.statuses, { "201": 93, "500": 10 });
  t.equal(seen.length, 103, "the server saw exactly 103 requests");
  t.ok(seen.every((r) => r.method === "POST" && r.url === "/items" && r.type === "application/json" && r.body === ITEM_BODY), "the workload's body, as JSON");
  t.ok(connections > 1 && connections <= 16, `concurrent requests, on at most 16 connections (saw ${connections})`);

  const get = await drive({ baseUrl: `http://127.0.0.1:${port}`, method: "GET", path: "/items/42?q=hello", requests: 5, connections: 16 });
  t.equal(get.sent, 5, "fewer requests than workers: still exact");
  t.equal(seen.at(-1)?.url, "/items/42?q=hello");
});

t.test("only node apps are counted", async (t) => {
  await t.rejects(
    countInstructions({ command: { file: "/usr/bin/python3", args: ["-m", "uvicorn"] }, workload: WORKLOADS[0]!, warmup: 0, window: 10, windows: 1 }),
    /not a node app/,
  );
});
