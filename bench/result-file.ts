/**
 * Where a bench script writes its results: `bench/results/<name>.json` (and `.svg` beside it), or
 * `<name>-run2`, `-run3`, … when that is taken, so a second run on the same day never overwrites
 * a result someone committed or quoted.
 *
 * @module
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./workloads.js";

/**
 * The first `<dir>/<name>[-runN]` (without extension) whose `.json` does not exist yet; creates
 * `dir` (by default the repository's `bench/results/`) if needed.
 *
 * @example
 * unusedResultStem(`${date}-instructions`); // ".../bench/results/2026-11-29-instructions-run2"
 */
export function unusedResultStem(name: string, dir = join(repoRoot, "bench/results")): string {
  mkdirSync(dir, { recursive: true });
  const base = join(dir, name);
  if (!existsSync(`${base}.json`)) return base;
  for (let n = 2; ; n++) if (!existsSync(`${base}-run${n}.json`)) return `${base}-run${n}`;
}
