/**
 * `npm run bench`: every contender (`contenders.ts`) serving the same four workloads
 * (`workloads.ts`), measured in one run, interleaved.
 *
 * 1. Start each contender (server pinned to core 0, the load generator to core 1 where the machine
 *    has two cores) and check its answers (`answer-check.ts`): a wrong server fails the run.
 * 2. Calibrate against bare uWebSockets.js: if the generator's own CPU is near its core's limit
 *    while the server's is not, the generator is the bottleneck and the fastest servers' req/s
 *    are the generator's ceiling, not theirs — said in the output and the result file.
 * 3. Warm up, then rounds: per workload, every contender in turn (A B C A B C …, the order
 *    rotated each round, so none always runs first or last on a machine whose speed drifts).
 *    Per sample: req/s, p50/p99, errors, server RSS (VmRSS sampled, peak) and CPU.
 * 4. Medians, ratios to laminar paired per round, the issue's targets; a table on stdout,
 *    `bench/results/<date>.json` and `bench/results/<date>.svg`.
 * 5. The per-layer cost (`layers.ts`, in-process).
 *
 * Flags: see {@link USAGE} (`--help`).
 *
 * @module
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { CONTENDERS, selectContenders, type Contender } from "./contenders.js";
import { checkAnswers } from "./answer-check.js";
import { WORKLOADS, repoRoot, type Workload } from "./workloads.js";
import { chooseTool, runLoad, type LoadResult, type ToolName } from "./load-generator.js";
import { CAN_PIN, freePort, startServer, type RunningServer } from "./server-process.js";
import { cpuSeconds, sampleRss } from "./proc-stats.js";
import { checkTargets, pairedRatio, rotate, summarise, type Sample } from "./aggregate.js";
import { formatTargets, formatWorkloadTable } from "./report-table.js";
import { renderChart } from "./svg-chart.js";
import { parseOptions, USAGE, type BenchOptions } from "./options.js";
import { formatLayerReport, measureLayers, type LayerReport } from "./layers.js";
import { codeVersion, describeMachine } from "./machine.js";
import { unusedResultStem } from "./result-file.js";

/** The generator is called the bottleneck when its CPU is at least this share of its core. */
const GENERATOR_SATURATED = 0.9;

interface Started {
  contender: Contender;
  server: RunningServer;
  baseUrl: string;
}

/** One sample with the server's RSS sampled and its CPU measured across the run. */
async function measure(tool: ToolName, started: Started, workload: Workload, options: BenchOptions, seconds: number): Promise<LoadResult & { rssMB: number; serverCpu: number }> {
  const { pid } = started.server;
  const rss = sampleRss(pid);
  const cpuBefore = cpuSeconds(pid);
  const begun = process.hrtime.bigint();
  try {
    const result = await runLoad({ tool, baseUrl: started.baseUrl, workload, seconds, connections: options.connections, pin: CAN_PIN });
    const elapsed = Number(process.hrtime.bigint() - begun) / 1e9;
    return { ...result, rssMB: rss.stop(), serverCpu: (cpuSeconds(pid) - cpuBefore) / elapsed };
  } finally {
    rss.stop();
  }
}

async function start(contender: Contender): Promise<Started> {
  const port = await freePort();
  const server = await startServer(contender.command(port), port);
  return { contender, server, baseUrl: `http://127.0.0.1:${port}` };
}


async function main(): Promise<number> {
  if (process.argv.includes("--help")) {
    console.log(USAGE);
    return 0;
  }
  const options = parseOptions(process.argv.slice(2));
  let layers: LayerReport | undefined;
  if (options.layers === "only") {
    console.log(formatLayerReport(await measureLayers(options.quick ? { batches: 5, iterations: 10_000 } : {})));
    return 0;
  }
  const tool = chooseTool(options.tool);
  const version = codeVersion();
  const wanted = selectContenders(options.only);
  const skipped: Record<string, string> = {};
  const contenders = wanted.filter((c) => {
    const reason = c.unavailable?.();
    if (reason !== undefined) {
      skipped[c.id] = reason;
      console.log(`skipping ${c.label}: ${reason}`);
    }
    return reason === undefined;
  });
  if (contenders.length === 0) throw new Error("no contender can run");
  console.log(
    `laminar bench: ${contenders.map((c) => c.id).join(", ")}; ${tool}, ${options.connections} connections, ` +
      `${options.rounds} round(s) × ${options.duration} s, warm-up ${options.warmup} s; ` +
      (CAN_PIN ? "servers on core 0, generator on core 1" : "one core: server and generator share it (not pinned)"),
  );

  const running: Started[] = [];
  const samples: Sample[] = [];
  let calibration: Record<string, unknown> = { skipped: "bare uWS unavailable" };
  try {
    for (const contender of contenders) {
      const started = await start(contender).catch((error: Error) => {
        throw new Error(`${contender.label} did not start: ${error.message}`);
      });
      running.push(started);
      await checkAnswers(contender.label, started.baseUrl);
    }
    console.log("answers checked: every contender answers every workload (and invalid input) correctly");

    // Calibration against the fastest server there is.
    const bareUws = CONTENDERS.find((c) => c.id === "bare-uws")!;
    if (bareUws.unavailable?.() === undefined) {
      const own = running.find((r) => r.contender.id === "bare-uws");
      const target = own ?? (await start(bareUws));
      if (own === undefined) running.push(target);
      const seconds = Math.max(1, Math.min(options.duration, 3));
      await measure(tool, target, WORKLOADS[0]!, options, 1); // warm-up
      const probe = await measure(tool, target, WORKLOADS[0]!, options, seconds);
      const generatorBound = probe.generatorCpu >= GENERATOR_SATURATED;
      const serverBound = probe.serverCpu >= GENERATOR_SATURATED;
      const cpu = `server at ${Math.round(probe.serverCpu * 100)}% of its core, ${tool} at ${Math.round(probe.generatorCpu * 100)}%`;
      const ceiling = `${Math.round(probe.rps).toLocaleString("en-US")} req/s`;
      const verdict =
        generatorBound && !serverBound
          ? `the GENERATOR is the bottleneck (${cpu}): results near ${ceiling} are ${tool}'s ceiling, not the server's`
          : generatorBound
            ? `the generator is near its limit too (${cpu}): results near ${ceiling} may be capped by ${tool}; slower servers are not`
            : serverBound
              ? `the server is the bottleneck (${cpu})`
              : `neither is saturated (${cpu}): the machine is busy with other work, req/s will understate every server`;
      console.log(`calibration, bare uWS GET /hello: ${Math.round(probe.rps).toLocaleString("en-US")} req/s; ${verdict}`);
      calibration = { contender: "bare-uws", workload: WORKLOADS[0]!.name, rps: probe.rps, generatorCpu: probe.generatorCpu, serverCpu: probe.serverCpu, generatorBound, verdict };
      if (own === undefined) {
        running.pop();
        await target.server.stop();
      }
    }

    if (options.warmup > 0) {
      for (const workload of WORKLOADS) for (const started of running) await measure(tool, started, workload, options, options.warmup);
    }
    for (let round = 1; round <= options.rounds; round++) {
      for (const workload of WORKLOADS) {
        for (const started of rotate(running, round - 1)) {
          const result = await measure(tool, started, workload, options, options.duration);
          samples.push({
            round,
            contender: started.contender.id,
            workload: workload.name,
            rps: result.rps,
            p50Ms: result.p50Ms,
            p99Ms: result.p99Ms,
            errors: result.errors,
            rssMB: result.rssMB,
            serverCpu: result.serverCpu,
            generatorCpu: result.generatorCpu,
          });
          console.log(
            `round ${round}/${options.rounds}  ${workload.name.padEnd(15)} ${started.contender.label.padEnd(20)} ` +
              `${Math.round(result.rps).toLocaleString("en-US").padStart(8)} req/s  p99 ${result.p99Ms.toFixed(2)} ms  errors ${result.errors}`,
          );
        }
      }
    }
  } finally {
    for (const started of running) await started.server.stop();
  }

  const ids = contenders.map((c) => c.id);
  const labels = Object.fromEntries(contenders.map((c) => [c.id, c.label]));
  const workloadNames = WORKLOADS.map((w) => w.name);
  const summaries = workloadNames.flatMap((w) => ids.map((id) => summarise(samples, id, w)));
  const ratio = (id: string, to: string, w: string): number => (ids.includes(to) ? pairedRatio(samples, id, to, w) : NaN);
  console.log("");
  for (const workload of workloadNames) {
    const rows = contenders.map((c) => ({
      label: c.label,
      summary: summaries.find((s) => s.contender === c.id && s.workload === workload)!,
      toLaminarNode: ratio(c.id, "laminar-node", workload),
      toLaminarUws: ratio(c.id, "laminar-uws", workload),
    }));
    console.log(formatWorkloadTable(workload, rows) + "\n");
  }
  const targets = checkTargets(samples, workloadNames, labels);
  console.log(formatTargets(targets));
  // Neither side saturated: something else on the machine took the CPU (other processes, the hypervisor).
  const contended = samples.filter((s) => s.serverCpu < 0.8 && s.generatorCpu < 0.8);
  if (contended.length > 0) {
    console.log(
      `\nNOTE: in ${contended.length} of ${samples.length} samples neither the server nor ${tool} used 80% of its core: ` +
        "the machine was busy with other work or throttled; those req/s understate the server (see srv CPU)",
    );
  }
  const totalErrors = samples.reduce((sum, s) => sum + s.errors, 0);
  if (totalErrors > 0) console.log(`\nWARNING: ${totalErrors} errors (non-2xx or socket errors) during the run`);

  if (options.layers === "include") {
    layers = await measureLayers(options.quick ? { batches: 5, iterations: 10_000 } : {});
    console.log("\n" + formatLayerReport(layers));
  }

  const date = new Date().toISOString();
  const reference = ids.includes("laminar-node") ? "laminar-node" : ids.includes("laminar-uws") ? "laminar-uws" : undefined;
  const report = {
    date,
    machine: describeMachine(),
    node: process.version,
    cores: cpus().length,
    pinned: CAN_PIN,
    tool,
    connections: options.connections,
    rounds: options.rounds,
    durationSeconds: options.duration,
    warmupSeconds: options.warmup,
    quick: options.quick,
    ...version,
    calibration,
    contendedSamples: contended.length,
    skipped,
    contenders: contenders.map((c) => ({ id: c.id, label: c.label })),
    workloads: WORKLOADS.map((w) => ({ name: w.name, method: w.method, path: w.path })),
    summaries: summaries.map((s) => ({
      ...s,
      toLaminarNode: ratio(s.contender, "laminar-node", s.workload),
      toLaminarUws: ratio(s.contender, "laminar-uws", s.workload),
    })),
    targets,
    layers,
    samples,
  };
  mkdirSync(join(repoRoot, "bench/results"), { recursive: true });
  const stem = unusedResultStem(new Date().toISOString().slice(0, 10) + (options.quick ? "-quick" : ""));
  writeFileSync(`${stem}.json`, JSON.stringify(report, null, 2) + "\n");
  const chartRatios = new Map<string, number>();
  if (reference !== undefined) for (const s of summaries) chartRatios.set(`${s.contender}|${s.workload}`, ratio(s.contender, reference, s.workload));
  writeFileSync(
    `${stem}.svg`,
    renderChart({
      title: `laminar bench, ${date.slice(0, 10)}${options.quick ? " (quick smoke run)" : ""}`,
      subtitle: `${describeMachine()}; ${tool}, ${options.connections} connections, ${options.rounds} round(s) × ${options.duration} s, ${CAN_PIN ? "server core 0, generator core 1" : "unpinned"}`,
      workloads: workloadNames,
      contenders: contenders.map((c) => ({ id: c.id, label: c.label })),
      summaries,
      ratios: chartRatios,
      ratioTo: reference === undefined ? undefined : labels[reference],
    }),
  );
  console.log(`\nwritten ${stem}.json and ${stem}.svg`);
  return 0;
}

try {
  process.exitCode = await main();
} catch (error) {
  console.error(`bench failed: ${(error as Error).message}`);
  process.exitCode = 1;
}
