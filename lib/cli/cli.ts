/**
 * The `laminar` command: dispatches `serve`, `worker`, `tasks`, `status`, `trace`, `openapi` and `help`, turns usage errors into exit code 2, and
 * runs one worker in this process or hands the config to the supervisor's master (`--workers > 1`).
 *
 * @module
 */
import { resolve } from "node:path";
import type { ServeConfig } from "../supervisor/serve-config.js";
import { mainHelp, serveHelp } from "./help.js";
import { resolveServeConfig } from "./resolve-serve-config.js";
import { runSingleWorker, type SingleWorkerDeps } from "./run-single-worker.js";
import { EXIT_USAGE, UsageError } from "./usage-error.js";
import { runStatus } from "./status.js";
import { runTrace } from "./trace-command.js";
import { runOpenApi } from "./openapi-command.js";
import { runWorkerCommand, type RunTaskMaster } from "./worker-command.js";
import { runTasksCommand } from "./tasks-command.js";
import { loadRegistry as defaultLoadRegistry } from "./load-registry.js";
import type { TaskRegistry } from "../tasks/registry.js";
import type { Logger } from "../logger.js";
import type { CreateTaskWorker } from "../tasks/worker-process/start-task-worker.js";

/** Runs the master (`--workers > 1`) and resolves with its exit code. */
export type RunMaster = (config: ServeConfig) => Promise<number>;

/** Everything `runCli` touches outside itself. */
export interface CliDeps extends SingleWorkerDeps {
  /** Reads the JSON config file (an absolute path). */
  readConfigFile(path: string): string;
  /** The supervisor's master; absent in a build without it, and then `--workers > 1` is refused. */
  runMaster?: RunMaster;
  /** Where `laminar status` looks for default control sockets; the OS temp directory when absent. */
  socketDir?: string;
  /** Writes a file (an absolute path): `laminar openapi --output`. */
  writeFile?(path: string, text: string): Promise<void>;
  /** Loads a task registry (`laminar worker`, `laminar tasks`). Default {@link defaultLoadRegistry}. */
  loadRegistry?(target: string, cwd: string): Promise<TaskRegistry>;
  /** The supervisor forking task workers (`laminar worker --processes > 1`); absent, that is refused. */
  runTaskMaster?: RunTaskMaster;
  /** Builds `laminar worker`'s worker (tests). Default laminar's Worker. */
  createWorker?: CreateTaskWorker;
  /** Cores, `laminar worker --pool process`'s default concurrency. */
  cpus?: number;
  /** `laminar worker`'s logger (tests). Default pino at `--log-level`. */
  logger?: Logger;
}

/**
 * True when the config needs the supervisor's master: several workers, or a setting only a master
 * can honour (replacing a retired worker, restarting on file changes). One worker with none of
 * these runs in this process, with no master.
 */
export function needsMaster(config: ServeConfig): boolean {
  return config.workers > 1 || config.maxRequests > 0 || config.reload;
}

/**
 * Runs `laminar <argv...>` and resolves with the exit code.
 *
 * @example
 * process.exitCode = await runCli(process.argv.slice(2), deps);
 */
export async function runCli(argv: readonly string[], deps: CliDeps): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "help" || command === "--help" || command === "-h") {
    deps.out(mainHelp());
    return 0;
  }
  if (command === "status") return runStatus(rest, { out: deps.out, err: deps.err, socketDir: deps.socketDir });
  if (command === "trace") return runTrace(rest, deps);
  if (command === "openapi") return runOpenApi(rest, deps);
  if (command === "worker") return runWorkerCommand(rest, { ...deps, loadRegistry: deps.loadRegistry ?? defaultLoadRegistry });
  if (command === "tasks") return runTasksCommand(rest, { ...deps, loadRegistry: deps.loadRegistry ?? defaultLoadRegistry });
  if (command !== "serve") {
    deps.err(command === undefined ? mainHelp() : `laminar: unknown command "${command}"; run laminar --help`);
    return EXIT_USAGE;
  }
  let config: ServeConfig;
  try {
    const parsed = resolveServeConfig(rest, {
      env: deps.env,
      readConfigFile: (path) => deps.readConfigFile(resolve(deps.cwd, path)),
    });
    if (parsed.kind === "help") {
      deps.out(serveHelp());
      return 0;
    }
    config = parsed.config;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    deps.err(`laminar serve: ${error.message}\nRun laminar serve --help for the settings.`);
    return EXIT_USAGE;
  }
  if (needsMaster(config)) {
    if (deps.runMaster === undefined) {
      deps.err("laminar serve: --workers > 1, --max-requests and --reload need the supervisor, which this build does not include");
      return EXIT_USAGE;
    }
    return deps.runMaster(config);
  }
  return runSingleWorker(config, deps);
}
