/**
 * What every bench result file records about where and what it measured: the machine, and the
 * code version (the checkout is shared, so uncommitted framework files are listed too).
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { cpus, totalmem } from "node:os";
import { repoRoot } from "./workloads.js";

/** `2 × AMD EPYC …, 24 GiB, Node v20.…`: the line result files and chart subtitles carry. */
export function describeMachine(): string {
  return `${cpus().length} × ${cpus()[0]?.model.trim() ?? "unknown CPU"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

/** Commit measured and the framework files that differed from it; `unknown` outside a git checkout. */
export function codeVersion(): { commit: string; uncommittedFrameworkFiles: string[] } {
  try {
    const git = (...args: string[]): string => execFileSync("git", ["-C", repoRoot, ...args], { encoding: "utf8" });
    const dirty = git("status", "--porcelain", "--", "lib", "layers", "bench/apps")
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => line.slice(3));
    return { commit: git("rev-parse", "HEAD").trim(), uncommittedFrameworkFiles: dirty };
  } catch {
    return { commit: "unknown", uncommittedFrameworkFiles: [] };
  }
}
