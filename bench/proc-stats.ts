/**
 * What the harness reads from `/proc` (Linux): a process's CPU time and resident memory, and the
 * CPU time of this process's finished children (how the load generator's own CPU is measured).
 * Time the hypervisor steals is not counted as CPU, so these are steadier than req/s on a
 * virtual machine.
 *
 * @module
 */
import { readFileSync } from "node:fs";

/** Clock ticks per second for `/proc/<pid>/stat` (100 on every Linux the project runs on). */
export const TICKS_PER_SECOND = 100;

function statFields(pid: number | "self"): string[] {
  // The command name (field 2) may hold spaces; everything after its closing parenthesis splits cleanly.
  const text = readFileSync(`/proc/${pid}/stat`, "utf8");
  return text.slice(text.lastIndexOf(")") + 2).split(" ");
}

/** user + system CPU time of a running process, in seconds; NaN when it cannot be read. */
export function cpuSeconds(pid: number): number {
  try {
    const fields = statFields(pid);
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}

/**
 * user + system CPU time of this process's waited-for children, in seconds (`cutime + cstime`).
 * The difference across one load-generator run is that run's own CPU time.
 */
export function childrenCpuSeconds(): number {
  try {
    const fields = statFields("self");
    return (Number(fields[13]) + Number(fields[14])) / TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}

/** A process's resident set size in MB (10^6 bytes, from `VmRSS` in KiB), or NaN when it is gone. */
export function rssMB(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? (Number(match[1]) * 1024) / 1e6 : NaN;
  } catch {
    return NaN;
  }
}

/** Samples a process's RSS every `intervalMs` until stopped; `stop()` returns the peak seen, in MB. */
export function sampleRss(pid: number, intervalMs = 200): { stop(): number } {
  let peak = rssMB(pid);
  const timer = setInterval(() => {
    const now = rssMB(pid);
    if (now > peak || Number.isNaN(peak)) peak = now;
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      const now = rssMB(pid);
      return now > peak || Number.isNaN(peak) ? now : peak;
    },
  };
}
