/**
 * `laminar worker <module>[:export]`: runs a task worker in this process, or, with `--processes > 1`
 * (or a per-process limit on the async pool), hands it to the supervisor's master, which forks the
 * task worker entry instead of the HTTP one and restarts, retires and stops its workers the same way.
 *
 * @module
 */
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import type { TaskRegistry } from "../tasks/registry.js";
import { createLogger, type Logger } from "../logger.js";
import { DEFAULT_SERVE_CONFIG, EXIT_APP_LOAD_ERROR, EXIT_WORKER_BOOT_ERROR, type ServeConfig } from "../supervisor/serve-config.js";
import { TASK_WORKER_CONFIG_ENV, taskWorkerNeedsMaster, type TaskWorkerConfig } from "../tasks/worker-process/task-worker-config.js";
import { PoolStartError, startTaskWorker, type CreateTaskWorker } from "../tasks/worker-process/start-task-worker.js";
import { closeRegistry, RegistryLoadError } from "./load-registry.js";
import { describeLoadError } from "./load-app.js";
import { twoStageShutdown, type SignalSource } from "./signals.js";
import { EXIT_USAGE, UsageError } from "./usage-error.js";
import { parseWorkerArgs, WORKER_USAGE, workerHelp } from "./worker-args.js";

/** The compiled supervised task worker entry. Run from TypeScript sources this `.js` does not exist: `--processes` needs the build. */
export const TASK_WORKER_ENTRY = fileURLToPath(new URL("../tasks/worker-process/task-worker-main.js", import.meta.url));

/** Exit code when the graceful stop itself failed. */
export const EXIT_WORKER_SHUTDOWN_ERROR = 1;

/** Runs the supervisor's master forking `workerEntry` with `workerEnv` added to each worker's environment. */
export type RunTaskMaster = (config: ServeConfig, options: { workerEntry: string; workerEnv: Record<string, string> }) => Promise<number>;

/** What `laminar worker` uses from its surroundings; injected so tests run it in-process. */
export interface WorkerCommandDeps {
  /** Directory the module is relative to. */
  cwd: string;
  /** Environment the registry's default logger reads `LOG_LEVEL` from. */
  env: Record<string, string | undefined>;
  out(line: string): void;
  err(line: string): void;
  signals: SignalSource;
  loadRegistry(target: string, cwd: string): Promise<TaskRegistry>;
  /** The supervisor; absent, `--processes > 1` is refused. */
  runTaskMaster?: RunTaskMaster;
  /** Cores, the process pool's default concurrency. Default `os.availableParallelism()`. */
  cpus?: number;
  /** The worker's logger. Default pino at `--log-level`. */
  logger?: Logger;
  /** Builds the worker (tests). Default laminar's Worker. */
  createWorker?: CreateTaskWorker;
}

/** The master's settings for a task worker config: the supervisor only reads the process-level ones. */
export function masterConfigFor(config: TaskWorkerConfig): ServeConfig {
  return {
    ...DEFAULT_SERVE_CONFIG,
    target: config.target,
    workers: config.processes,
    timeout: config.timeout,
    gracefulTimeout: config.gracefulTimeout,
    logLevel: config.logLevel,
    forwardedAllowIps: "",
  };
}

/**
 * Runs `laminar worker` and resolves with the exit code.
 *
 * @example
 * process.exitCode = await runWorkerCommand(["dist/tasks.js", "--pool", "process"], deps);
 */
export async function runWorkerCommand(argv: readonly string[], deps: WorkerCommandDeps): Promise<number> {
  const cpus = deps.cpus ?? availableParallelism();
  let config: TaskWorkerConfig;
  try {
    const parsed = parseWorkerArgs(argv, cpus);
    if (parsed === "help") {
      deps.out(workerHelp(cpus));
      return 0;
    }
    config = parsed;
    if (taskWorkerNeedsMaster(config) && deps.runTaskMaster === undefined) {
      throw new UsageError("--processes > 1 (and --max-tasks-per-child / --max-memory-per-child with --pool async) need the supervisor, which this build does not include");
    }
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    deps.err(`laminar worker: ${error.message}\nUsage: ${WORKER_USAGE}`);
    return EXIT_USAGE;
  }
  if (taskWorkerNeedsMaster(config)) {
    return deps.runTaskMaster!(masterConfigFor(config), { workerEntry: TASK_WORKER_ENTRY, workerEnv: { [TASK_WORKER_CONFIG_ENV]: JSON.stringify(config) } });
  }
  return runTaskWorker(config, deps);
}

/**
 * One task worker in this process until SIGTERM/SIGINT: load the registry, start the pool and the
 * worker, then stop gracefully and close the registry. Resolves with the exit code: 0 after a clean
 * stop, 4 when the registry cannot be loaded, 3 when the worker cannot start, 128 + n after a
 * second signal.
 */
export async function runTaskWorker(config: TaskWorkerConfig, deps: WorkerCommandDeps): Promise<number> {
  const shutdown = twoStageShutdown(
    deps.signals,
    {
      first: (signal) => `laminar worker: ${signal}, stopping gracefully (running tasks get up to ${config.gracefulTimeout} s; ${signal} again to exit now)`,
      second: (signal) => `laminar worker: second ${signal}, exiting now`,
    },
    deps.err,
  );

  const run = async (): Promise<number> => {
    // The registry's default loggers read LOG_LEVEL while its module is imported.
    deps.env.LOG_LEVEL = config.logLevel;
    const logger = deps.logger ?? createLogger({ level: config.logLevel });
    let registry: TaskRegistry;
    try {
      registry = await deps.loadRegistry(config.target, deps.cwd);
    } catch (error) {
      deps.err(`laminar worker: cannot load the task registry ${config.target}: ${describeLoadError(error)}`);
      return EXIT_APP_LOAD_ERROR;
    }
    let running;
    try {
      running = await startTaskWorker(config, registry, { logger, cwd: deps.cwd, createWorker: deps.createWorker });
    } catch (error) {
      await closeRegistry(registry).catch(() => {});
      if (error instanceof PoolStartError) {
        deps.err(`laminar worker: the process pool cannot start: ${describeLoadError(error)}`);
        return EXIT_APP_LOAD_ERROR;
      }
      if (error instanceof RegistryLoadError) {
        deps.err(`laminar worker: ${describeLoadError(error)}`);
        return EXIT_APP_LOAD_ERROR;
      }
      deps.err(`laminar worker: cannot start: ${describeLoadError(error)}`);
      return EXIT_WORKER_BOOT_ERROR;
    }
    const names = registry.names();
    deps.out(
      `laminar worker: consuming ${config.queues.join(",")} (pool ${config.pool}, concurrency ${config.concurrency}, pid ${process.pid}); ` +
        `${names.length} task${names.length === 1 ? "" : "s"}: ${names.join(", ")}`,
    );
    // At once when a signal came while the worker was starting.
    await shutdown.requested();
    try {
      await running.stop(config.gracefulTimeout * 1000);
    } catch (error) {
      deps.err(`laminar worker: shutdown failed: ${describeLoadError(error)}`);
      return EXIT_WORKER_SHUTDOWN_ERROR;
    }
    deps.err(`laminar worker: stopped (${running.worker.processed} tasks processed)`);
    return 0;
  };

  try {
    return await Promise.race([run(), shutdown.forced]);
  } finally {
    shutdown.dispose();
  }
}
