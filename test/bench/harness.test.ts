/**
 * The benchmark harness without load: aggregation (median, rotation, paired ratios, summaries,
 * targets), wrk report parsing, the command line, the SVG chart (well-formed XML naming every
 * contender and workload, hostile labels escaped), the answer check (right answers pass, wrong
 * ones are rejected, also over a real socket), the per-layer configurations' answers, and a
 * bounded smoke check that starts two contender apps and checks their answers. No timing asserts.
 */
import t from "tap";
import { createServer } from "node:http";
import { join } from "node:path";
import { median, rotate, pairedRatio, summarise, checkTargets, type Sample } from "../../bench/aggregate.js";
import { parseWrkOutput, parseWrkDuration } from "../../bench/load-generator.js";
import { parseOptions } from "../../bench/options.js";
import { selectContenders, CONTENDERS } from "../../bench/contenders.js";
import { renderChart, xmlEscape } from "../../bench/svg-chart.js";
import { ANSWER_CASES, WrongAnswerError, checkAnswers, judgeAnswer } from "../../bench/answer-check.js";
import { formatTargets, formatWorkloadTable } from "../../bench/report-table.js";
import { checkLayerStep, layerSteps } from "../../bench/layers.js";
import { freePort, pinned, startServer } from "../../bench/server-process.js";
import { repoRoot } from "../../bench/workloads.js";

function sample(contender: string, workload: string, round: number, rps: number, extra: Partial<Sample> = {}): Sample {
  return { round, contender, workload, rps, p50Ms: 1, p99Ms: 2, errors: 0, rssMB: 50, serverCpu: 0.99, generatorCpu: 0.4, ...extra };
}

t.test("median and rotation", async (t) => {
  t.equal(median([3, 1, 2]), 2);
  t.equal(median([4, 1, 3, 2]), 2.5);
  t.ok(Number.isNaN(median([])), "no values: NaN");
  t.equal(median([NaN, 5, Infinity]), 5, "non-finite values ignored");
  t.strictSame(rotate(["a", "b", "c"], 0), ["a", "b", "c"]);
  t.strictSame(rotate(["a", "b", "c"], 1), ["b", "c", "a"]);
  t.strictSame(rotate(["a", "b", "c"], 4), ["b", "c", "a"], "wraps");
  t.strictSame(rotate([], 3), []);
});

t.test("paired ratios use only rounds where both were measured, and their median", async (t) => {
  const samples = [
    sample("lam", "w", 1, 100),
    sample("peer", "w", 1, 50), // 2
    sample("lam", "w", 2, 90),
    sample("peer", "w", 2, 90), // 1
    sample("lam", "w", 3, 120),
    sample("peer", "w", 3, 40), // 3
    sample("lam", "w", 4, 1000), // no peer in round 4: ignored
    sample("lam", "other", 1, 1),
    sample("peer", "other", 1, 1000),
  ];
  t.equal(pairedRatio(samples, "lam", "peer", "w"), 2);
  t.equal(pairedRatio(samples, "peer", "lam", "other"), 1000);
  t.ok(Number.isNaN(pairedRatio(samples, "lam", "ghost", "w")), "no pair: NaN");
});

t.test("summaries: medians, summed errors, peak RSS", async (t) => {
  const samples = [
    sample("a", "w", 1, 10, { errors: 2, rssMB: 40, p99Ms: 5 }),
    sample("a", "w", 2, 30, { errors: 1, rssMB: 60, p99Ms: 7 }),
    sample("a", "w", 3, 20, { errors: 0, rssMB: NaN, p99Ms: 6 }),
    sample("b", "w", 1, 1000, { rssMB: 500 }),
  ];
  const s = summarise(samples, "a", "w");
  t.equal(s.samples, 3);
  t.equal(s.medianRps, 20);
  t.equal(s.p99Ms, 6);
  t.equal(s.errors, 3);
  t.equal(s.peakRssMB, 60, "peak of this contender only, NaN readings skipped");
});

t.test("targets are checked per workload, with RSS", async (t) => {
  const w = ["GET /hello", "POST /items"];
  const samples = [
    sample("laminar-node", "GET /hello", 1, 100, { rssMB: 80 }),
    sample("fastify", "GET /hello", 1, 50),
    sample("laminar-node", "POST /items", 1, 40),
    sample("fastify", "POST /items", 1, 50),
    sample("fastapi", "GET /hello", 1, 20),
    sample("fastapi", "POST /items", 1, 10),
  ];
  const checks = checkTargets(samples, w, { "laminar-node": "laminar node:http" });
  const find = (target: string, workload: string) => checks.find((c) => c.target.startsWith(target) && c.workload === workload)!;
  t.equal(find("laminar node:http / fastify", "GET /hello").met, true);
  t.equal(find("laminar node:http / fastify", "POST /items").met, false, "0.8× misses ≥ 1×");
  t.equal(find("laminar node:http / fastapi", "GET /hello").value, 5);
  t.equal(find("laminar node:http / fastapi", "GET /hello").threshold, 4);
  t.equal(find("laminar node:http / fastapi", "POST /items").threshold, 8, "FastAPI's POST target is 8×");
  t.notOk(checks.some((c) => c.target.includes("bare")), "no target for contenders not run");
  const rss = checks.find((c) => c.target.includes("RSS"))!;
  t.equal(rss.value, 80);
  t.equal(rss.met, false);
  const text = formatTargets(checks);
  t.match(text, /MISSED\s+laminar node:http RSS/);
  t.match(text, /met\s+laminar node:http \/ fastify/);
});

t.test("wrk's report is parsed", async (t) => {
  const out = `Running 3s test @ http://127.0.0.1:3000/hello
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.02ms  312.40us   9.80ms   91.00%
  Latency Distribution
     50%  812.00us
     75%    1.10ms
     90%    1.40ms
     99%    2.50s
  150000 requests in 3.00s, 20.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 7
Requests/sec:  50000.12
Transfer/sec:      6.67MB
`;
  const r = parseWrkOutput(out);
  t.equal(r.rps, 50000.12);
  t.equal(r.p50Ms, 0.812);
  t.equal(r.p99Ms, 2500);
  t.equal(r.errors, 12, "non-2xx plus socket errors");
  t.equal(parseWrkDuration("1.5m"), 90_000);
  t.ok(Number.isNaN(parseWrkDuration("fast")));
  t.ok(Number.isNaN(parseWrkOutput("garbage").rps), "no report: NaN (runLoad then rejects)");
});

t.test("command line", async (t) => {
  const quick = parseOptions(["--quick"]);
  t.equal(quick.rounds, 1);
  t.equal(quick.duration, 1);
  t.equal(quick.warmup, 0);
  const full = parseOptions(["--tool", "wrk", "--only", "laminar-node, fastify", "--rounds", "7", "--duration", "2", "--no-layers"]);
  t.strictSame(full.only, ["laminar-node", "fastify"]);
  t.equal(full.tool, "wrk");
  t.equal(full.rounds, 7);
  t.equal(full.duration, 2);
  t.equal(full.layers, "skip");
  t.equal(parseOptions(["--layers"]).layers, "only");
  t.throws(() => parseOptions(["--tool", "ab"]), /--tool takes wrk or autocannon/);
  t.throws(() => parseOptions(["--rounds", "0"]), /--rounds takes an integer/);
  t.throws(() => parseOptions(["--duration", "0.5"]), /--duration takes an integer/);
  t.throws(() => parseOptions(["--rounds"]), /got nothing/);
  t.throws(() => parseOptions(["--only", ","]), /--only takes/);
  t.throws(() => parseOptions(["--fast"]), /unknown option --fast/);
  t.strictSame(
    selectContenders(["fastify", "laminar-node"]).map((c) => c.id),
    ["laminar-node", "fastify"],
    "report order, not argument order",
  );
  t.throws(() => selectContenders(["laminar-node", "koa"]), /unknown contender\(s\) koa/);
  t.equal(selectContenders(undefined).length, CONTENDERS.length);
  t.strictSame(pinned(1, "wrk", ["-c1"], true), { file: "taskset", args: ["-c", "1", "wrk", "-c1"] });
  t.strictSame(pinned(1, "wrk", ["-c1"], false), { file: "wrk", args: ["-c1"] });
});

/** A small XML well-formedness check: balanced, properly nested tags; no raw `<` or bad `&` in text or attributes. */
function wellFormed(xml: string): string | undefined {
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, "");
  const stack: string[] = [];
  const token = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)|(<)/g;
  let match: RegExpExecArray | null;
  let roots = 0;
  while ((match = token.exec(body)) !== null) {
    const [, closing, name, attrs, selfClosing, text, stray] = match;
    if (stray !== undefined) return `stray '<' at ${match.index}`;
    const content = text ?? attrs ?? "";
    if (/&(?!(amp|lt|gt|quot|apos|#\d+);)/.test(content)) return `bad entity near ${JSON.stringify(content.slice(0, 40))}`;
    if (name === undefined) {
      if (stack.length === 0 && text!.trim() !== "") return "text outside the root";
      continue;
    }
    if (closing) {
      if (stack.pop() !== name) return `</${name}> does not close the open tag`;
    } else if (!selfClosing) {
      if (stack.length === 0) roots++;
      stack.push(name);
    } else if (stack.length === 0) roots++;
  }
  if (stack.length > 0) return `unclosed ${stack.join(", ")}`;
  return roots === 1 ? undefined : `${roots} root elements`;
}

t.test("the SVG chart is well-formed XML naming every contender and workload", async (t) => {
  const contenders = CONTENDERS.map((c) => ({ id: c.id, label: c.label })).concat({ id: "evil", label: `<script>&"x'` });
  const workloads = ["GET /hello", "POST /items & more"];
  const summaries = workloads.flatMap((w) =>
    contenders.map((c, i) => summarise([sample(c.id, w, 1, c.id === "express" ? NaN : 1000 * (i + 1))], c.id, w)),
  );
  const ratios = new Map(summaries.map((s) => [`${s.contender}|${s.workload}`, 1.5]));
  const svg = renderChart({ title: "t <1>", subtitle: "s & s", workloads, contenders, summaries, ratios, ratioTo: "laminar node:http" });
  t.equal(wellFormed(svg), undefined, "well-formed");
  t.match(svg, /^<\?xml version="1.0"/);
  t.match(svg, /<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  for (const c of contenders) t.ok(svg.includes(`>${xmlEscape(c.label)}</text>`), `names ${c.label}`);
  for (const w of workloads) t.ok(svg.includes(`>${xmlEscape(w)}</text>`), `names ${w}`);
  t.ok(svg.includes("8,000 req/s (1.50×)"), "values labelled, with the ratio");
  t.ok(svg.includes("not measured"), "a missing value is said, not drawn");
  t.equal((svg.match(/<rect x=/g) ?? []).length, contenders.length * workloads.length, "one bar per contender per workload");
  // The checker itself must catch what it claims to.
  t.ok(wellFormed("<svg><text>a & b</text></svg>"), "raw & rejected");
  t.ok(wellFormed("<svg><text>a</svg></text>"), "bad nesting rejected");
  t.ok(wellFormed("<svg><text>1 < 2</text></svg>"), "raw < rejected");
});

t.test("the workload table prints every row", async (t) => {
  const s = summarise([sample("a", "w", 1, 12345.6, { errors: 3 })], "a", "w");
  const table = formatWorkloadTable("w", [{ label: "laminar node:http", summary: s, toLaminarNode: 1, toLaminarUws: NaN }]);
  t.match(table, /laminar node:http\s+12,346\s+1\.00\s+–/);
  t.match(table, /\s3\s/);
});

t.test("the answer check accepts right answers and rejects wrong ones", async (t) => {
  const byName = (name: string) => ANSWER_CASES.find((c) => c.name === name)!;
  t.equal(judgeAnswer(byName("GET /hello"), 200, '{"message":"hello"}'), undefined);
  t.equal(judgeAnswer(byName("GET /hello"), 200, '{ "message" : "hello" }'), undefined, "JSON equality, not bytes");
  t.match(judgeAnswer(byName("GET /hello"), 200, '{"message":"hullo"}'), /expected \{"message":"hello"\}/);
  t.match(judgeAnswer(byName("GET /hello"), 201, '{"message":"hello"}'), /status 201, expected 200/);
  t.match(judgeAnswer(byName("GET /hello"), 200, "hello"), /not JSON/);
  t.equal(judgeAnswer(byName("GET /items/:id without q"), 200, '{"id":7,"q":null}'), undefined);
  t.ok(judgeAnswer(byName("GET /items/:id without q"), 200, '{"id":7}'), "q must be null when absent");
  t.ok(judgeAnswer(byName("GET /items/:id with q"), 200, '{"id":"42","q":"hello"}'), "id must be a number");
  const post = byName("POST /items");
  t.equal(judgeAnswer(post, 201, '{"id":3,"name":"pen","price":1.5,"tags":["office","blue"]}'), undefined);
  t.match(judgeAnswer(post, 201, '{"id":3,"name":"pen","price":1.5,"tags":["office","blue"],"unknown":"dropped"}'), /unknown field/);
  t.match(judgeAnswer(post, 201, '{"id":"3","name":"pen","price":1.5,"tags":["office","blue"]}'), /no integer id/);
  t.match(judgeAnswer(post, 200, "{}"), /status 200, expected 201/);
  const invalid = byName("POST /items, invalid item");
  t.equal(judgeAnswer(invalid, 422, "{}"), undefined);
  t.equal(judgeAnswer(invalid, 400, "anything"), undefined, "Fastify's 400 is accepted");
  t.match(judgeAnswer(invalid, 201, "{}"), /status 201, expected 400 or 422/, "a server that accepts an invalid item fails");
  t.match(judgeAnswer(byName("GET /deps"), 200, '{"user":"user-42","role":"admin","logged":2}'), /expected/);
});

t.test("checkAnswers rejects a wrong server over a real socket, listing every problem", async (t) => {
  // Answers /hello right, accepts any item (no validation), and has no /deps.
  const server = createServer((req, res) => {
    res.setHeader("content-type", "application/json");
    if (req.url === "/hello") return res.end('{"message":"hello"}');
    if (req.url === "/items" && req.method === "POST") {
      req.resume();
      return req.on("end", () => {
        res.statusCode = 201;
        res.end('{"id":1,"name":"pen","price":1.5,"tags":["office","blue"]}');
      });
    }
    res.statusCode = 404;
    res.end("{}");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(() => server.close());
  const { port } = server.address() as { port: number };
  const error = await checkAnswers("wrong", `http://127.0.0.1:${port}`).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(error instanceof WrongAnswerError, "rejected");
  const problems = (error as WrongAnswerError).problems.join("\n");
  t.match(problems, /POST \/items, invalid item: status 201/);
  t.match(problems, /GET \/deps: status 404/);
  t.notMatch(problems, /GET \/hello:/, "the right answer is not listed");
  const unreachable = await checkAnswers("gone", `http://127.0.0.1:${await freePort()}`, ANSWER_CASES.slice(0, 1)).catch((e: unknown) => e);
  t.match((unreachable as WrongAnswerError).problems[0], /request failed/, "a server that does not answer fails too");
});

t.test("every per-layer configuration gives the route's answer", async (t) => {
  const steps = layerSteps();
  t.strictSame(
    steps.map((s) => s.label),
    ["bare app", "+ middleware", "+ router", "+ handler", "+ DI", "+ validation", "+ serializer"],
  );
  for (const step of steps) await t.resolves(checkLayerStep(step), step.label);
  await t.rejects(checkLayerStep({ label: "wrong", app: async () => {} }), /answered 0/, "a step that answers nothing is caught");
});

t.test("smoke: two contender apps start and answer every workload correctly", { timeout: 50_000 }, async (t) => {
  // Run the apps from source through tap's TypeScript loader (no build needed).
  const loader = process.execArgv.filter((arg) => arg.includes("@tapjs/typescript"));
  for (const app of ["laminar-node-http.ts", "bare-node-http.ts"]) {
    const port = await freePort();
    const server = await startServer({ file: process.execPath, args: [...loader, join(repoRoot, "bench/apps", app)] }, port, false);
    t.teardown(() => server.stop());
    await t.resolves(checkAnswers(app, `http://127.0.0.1:${port}`), `${app} answers right`);
  }
});
