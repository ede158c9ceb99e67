/**
 * `npm run bench:instructions`: user-space instructions per request of each contender's server,
 * counted by valgrind's callgrind. On a virtual machine whose speed drifts by 2× within seconds,
 * req/s ratios swing from run to run; instruction counts do not.
 *
 * Per contender × workload: one fresh server process under callgrind, warmed up (default 12,000
 * requests), then counted in windows (default 5 × 3,000 requests) between `callgrind_control`'s
 * zero and dump; the median window's instructions per request is reported, every window listed
 * (`instruction-count.ts` says why not the difference of two runs, the first method). Before any of that, every contender is
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
import { countInstructions, medianWindow, valgrindVersion } from "./instruction-count.js";
import { parseInstructionOptions, USAGE } from "./instruction-options.js";
import { checkInstructionTargets, formatInstructionTable, formatInstructionTargets, type PairResult } from "./instruction-report.js";
import { codeVersion, describeMachine } from "./machine.js";
import { unusedResultStem } from "./result-file.js";

/** Said in the output and the result file: what the number is, and is not. */
const SCOPE =
  "counts user-space instructions of the server process only (callgrind; node --single-threaded, so V8's " +
  "compiler and GC run on the main thread and are counted). Not counted: kernel time — syscalls, which strace " +
  "shows are the same per request for laminar and bare node:http (one read, one writev). It complements req/s, it does not replace it. " +
  // Measured on the project's loaded 2-core VM: with 16 connections bare node:http GET /items/:id gave
  // 51.0k and 73.6k in two runs (first method); with many connections how requests batch per wake-up varies.
  "One connection by default, so every request takes the same path through the event loop; the median of several " +
  "windows, so that one garbage collection does not decide the figure.";

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
  const { warmup, window, windows } = options;
  console.log(`laminar instruction count (${valgrind}): ${warmup} warm-up requests, then ${windows} windows of ${window}; server on core 0, driver on core 1; this ${SCOPE}`);

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
      method: `median of ${windows} windows of ${window} requests, each counted between callgrind_control --zero and --dump, after ${warmup} warm-up requests, one fresh server per contender × workload (undici Pool, no pipelining, ${options.connections} connection(s))`,
      warmup,
      window,
      windows,
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
      const result: PairResult = { contender: contender.id, workload: workload.name, windows: [], perRequest: NaN };
      try {
        const begun = Date.now();
        const totals = await countInstructions({ command: contender.command(0), workload, warmup, window, windows, connections: options.connections });
        result.windows = totals.map((w) => w.instructions / w.requests);
        result.perRequest = medianWindow(totals);
        const each = result.windows.map((n) => Math.round(n).toLocaleString("en-US")).join(", ");
        console.log(`  ${workload.name.padEnd(15)} ${contender.label.padEnd(20)} → ${Math.round(result.perRequest).toLocaleString("en-US")} instructions/request (windows ${each}; ${Math.round((Date.now() - begun) / 1000)} s)`);
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
