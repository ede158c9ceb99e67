/**
 * Memory and CPU of a served tree across one load run: each process's peak RSS (sampled, as the
 * main bench samples one server's) and the CPU the whole tree used, in cores.
 *
 * RSS counts pages shared between a master and its forked workers once per process, so the
 * total overstates what the machine gives up a little; it is what `ps` and most dashboards show.
 *
 * @module
 */
import { cpuSeconds, sampleRss } from "../proc-stats.js";
import type { ServedTree } from "./serve-master.js";

/** What a tree used during one run. */
export interface TreeUsage {
  /** Peak RSS of each worker process, MB, in pid order. */
  workerRssMB: number[];
  /** Peak RSS of the master, MB; 0 when N = 1 (no master). */
  masterRssMB: number;
  /** Sum of the above. */
  totalRssMB: number;
  /** CPU the tree used over the run, in cores (1.0 = one core busy all the time). */
  serverCores: number;
}

/** Starts sampling `tree`; `stop()` returns what it used since. */
export function watchTree(tree: ServedTree): { stop(): TreeUsage } {
  const workers = tree.workerPids();
  const master = tree.spec.workers === 1 ? [] : [tree.pid];
  const pids = [...master, ...workers];
  const samplers = pids.map((pid) => sampleRss(pid));
  const cpuBefore = pids.map(cpuSeconds);
  const started = process.hrtime.bigint();
  return {
    stop() {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const rss = samplers.map((s) => s.stop());
      const cpu = pids.reduce((sum, pid, i) => sum + (cpuSeconds(pid) - cpuBefore[i]!), 0);
      const workerRssMB = rss.slice(master.length);
      const masterRssMB = master.length === 0 ? 0 : rss[0]!;
      return {
        workerRssMB,
        masterRssMB,
        totalRssMB: masterRssMB + workerRssMB.reduce((a, b) => a + b, 0),
        serverCores: cpu / seconds,
      };
    },
  };
}
