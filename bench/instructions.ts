/**
 * `npm run bench:instructions`: user-space instructions per request of each contender's server,
 * counted by valgrind's callgrind. On a virtual machine whose speed drifts by 2× within seconds,
 * req/s ratios swing from run to run; instruction counts do not.
 *
 * Per contender × workload: two fresh server processes under callgrind, sent N1 and N2 requests
 * (default 3000 and 9000), and (I(N2) − I(N1)) / (N2 − N1) reported, so startup, module loading
 * and JIT warm-up cancel out (`instruction-count.ts`); with `--repeat N`, the median of N such pairs. Before any of that, every contender is
 * started normally and its answers checked (`answer-check.ts`), so a broken server yields no number.
 *
 * What it does NOT count: kernel time (syscalls, TCP), and other processes. It complements req/s.
 *
 * Flags: see {@link USAGE} (`--help`).
 *
 * @module
 */
import { writeFileSync } from "node:fs";
import { CONTENDERS, type Contender } from "./contenders.js";
import { checkAnswers } from "./answer-check.js";
import { freePort, startServer } from "./server-process.js";
import { countInstructions, perRequest, valgrindVersion, type RunTotal } from "./instruction-count.js";
import { parseInstructionOptions, USAGE } from "./instruction-options.js";
import { checkInstructionTargets, formatInstructionTable, formatInstructionTargets, type PairResult } from "./instruction-report.js";
import { codeVersion, describeMachine } from "./machine.js";
import { median } from "./aggregate.js";
import { unusedResultStem } from "./result-file.js";

/** Said in the output and the result file: what the number is, and is not. */
const SCOPE =
  "counts user-space instructions of the server process only (callgrind; node --single-threaded, so V8's " +
  "compiler and GC run on the main thread and are counted). Not counted: kernel time — syscalls, which strace " +
  "shows are the same per request for laminar and bare node:http (one read, one writev). It complements req/s, it does not replace it. " +
  // Measured on the project's loaded 2-core VM: with 16 connections bare node:http GET /items/:id gave
  // 51.0k and 73.6k in two runs; one connection at a time (the default), bare GET /hello gave 89.6k and 91.5k.
  "With one connection (the default) runs of one pair repeat within a few %; with many, how requests batch per event-loop " +
  "wake-up depends on timing and runs have differed by 1.4×.";

/** Why a contender is not measured here, or undefined when it is. */
function skipReason(contender: Contender): string | undefined {
  if (contender.id === "fastapi") return "Python: this mode counts Node servers' instructions (valgrind on CPython works, but is not what it compares)";
  return contender.unavailable?.();
}

/** Starts the contender normally (not under valgrind) and checks every answer. */
async function checkContender(contender: Contender): Promise<void> {
  const port = await freePort();
  const server = await startServer(contender.command(port), port);
  try {
    await checkAnswers(contender.label, `http://127.0.0.1:${port}`);
  } finally {
    await server.stop();
  }
}

async function main(): Promise<number> {
  const options = parseInstructionOptions(process.argv.slice(2));
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  const valgrind = valgrindVersion();
  if (valgrind === undefined) {
    console.log("skipping the instruction count: valgrind is not installed (apt-get install valgrind)");
    return 0;
  }
  const skipped: Record<string, string> = {};
  const contenders = CONTENDERS.filter((c) => options.only.includes(c.id)).filter((c) => {
    const reason = skipReason(c);
    if (reason !== undefined) {
      skipped[c.id] = reason;
      console.log(`skipping ${c.label}: ${reason}`);
    }
    return reason === undefined;
  });
  if (contenders.length === 0) throw new Error("no contender can run");
  for (const contender of contenders) await checkContender(contender);
  console.log(`answers checked: ${contenders.map((c) => c.id).join(", ")}`);
  const [n1, n2] = options.requests;
  console.log(`laminar instruction count (${valgrind}): ${n1} and ${n2} requests per pair, server on core 0, driver on core 1; this ${SCOPE}`);

  const date = new Date().toISOString();
  const file = `${unusedResultStem(`${date.slice(0, 10)}-instructions`)}.json`;
  const results: PairResult[] = [];
  const workloads = options.workloads.map((w) => w.name);
  // Rewritten after every pair, so an interrupted run keeps what it measured.
  const save = (): void => {
    const report = {
      date,
      machine: describeMachine(),
      valgrind,
      ...codeVersion(),
      scope: SCOPE,
      method: `(I(N2) − I(N1)) / (N2 − N1): callgrind totals of two fresh server processes sent N1 and N2 requests (undici Pool, no pipelining, ${options.connections} connection(s))`,
      requests: options.requests,
      repeat: options.repeat,
      skipped,
      contenders: contenders.map((c) => ({ id: c.id, label: c.label })),
      workloads: options.workloads.map((w) => ({ name: w.name, method: w.method, path: w.path })),
      targets: checkInstructionTargets(results, workloads),
      results,
    };
    writeFileSync(file, JSON.stringify(report, null, 2) + "\n");
  };

  let failures = 0;
  for (const workload of options.workloads) {
    for (const contender of contenders) {
      const runs: RunTotal[] = [];
      const repeats: number[] = [];
      const result: PairResult = { contender: contender.id, workload: workload.name, runs, repeats, perRequest: NaN };
      try {
        for (let repeat = 0; repeat < options.repeat; repeat++) {
          const pair: RunTotal[] = [];
          for (const requests of options.requests) {
            const begun = Date.now();
            pair.push(await countInstructions({ command: contender.command(0), workload, requests, connections: options.connections }));
            console.log(`  ${workload.name.padEnd(15)} ${contender.label.padEnd(20)} ${String(requests).padStart(6)} requests: ${pair.at(-1)!.instructions.toLocaleString("en-US")} instructions (${Math.round((Date.now() - begun) / 1000)} s)`);
          }
          runs.push(...pair);
          repeats.push(perRequest(pair[0]!, pair[1]!));
        }
        result.perRequest = median(repeats);
        const each = repeats.length > 1 ? ` (median of ${repeats.map((r) => Math.round(r).toLocaleString("en-US")).join(", ")})` : "";
        console.log(`  ${workload.name.padEnd(15)} ${contender.label.padEnd(20)} → ${Math.round(result.perRequest).toLocaleString("en-US")} instructions/request${each}`);
      } catch (error) {
        failures++;
        result.error = (error as Error).message;
        console.error(`  ${workload.name} ${contender.label} FAILED: ${result.error}`);
      }
      results.push(result);
      save();
    }
  }
  console.log("\n" + formatInstructionTable(results, contenders, workloads));
  console.log("\n" + formatInstructionTargets(checkInstructionTargets(results, workloads)));
  console.log(`\nThis ${SCOPE}\nwritten ${file}`);
  return failures === 0 ? 0 : 1;
}

try {
  process.exitCode = await main();
} catch (error) {
  console.error(`bench:instructions failed: ${(error as Error).message}`);
  process.exitCode = 1;
}
