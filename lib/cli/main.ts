/**
 * Wires {@link runCli} to the real process: argv, environment, stdio, signals and files. Kept apart
 * from `bin.ts` so the supervisor's master is plugged in here, in one place.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { loadApp } from "./load-app.js";
import { runCli } from "./cli.js";
import { processSignals } from "./signals.js";
import { runMaster } from "../supervisor/master.js";
import { loadRegistry } from "./load-registry.js";

/** Runs `laminar` with this process's arguments and exits with its code. */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const code = await runCli(argv, {
    cwd: process.cwd(),
    env: process.env,
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    signals: processSignals,
    readFile: (path) => readFile(path),
    readConfigFile: (path) => readFileSync(path, "utf8"),
    writeFile: (path, text) => writeFile(path, text),
    loadApp,
    // Forks compiled workers (dist/lib/supervisor/worker-main.js): --workers > 1 needs the built package.
    runMaster: (config) => runMaster(config),
    loadRegistry,
    // `laminar worker --processes N`: the same master, forking the compiled task worker entry.
    runTaskMaster: (config, options) => runMaster(config, options),
  });
  // Exit explicitly: an app's own timers or an unclosed handle must not keep a stopped server alive.
  // (stdout and stderr are synchronous for files and pipes on Linux, so nothing written is lost.)
  process.exit(code);
}
