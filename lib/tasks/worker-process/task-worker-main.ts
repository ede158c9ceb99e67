/**
 * A supervised task worker's entry point: the file the master forks for `laminar worker
 * --processes N` (instead of the HTTP `worker-main.js`), speaking the same IPC protocol. It reads
 * its {@link TaskWorkerConfig} from {@link TASK_WORKER_CONFIG_ENV}, sends heartbeats from the
 * start, loads the registry, starts consuming and reports `listening` (url `tasks://<queues>`),
 * asks to `retire` after `--max-tasks-per-child` tasks or above `--max-memory-per-child`, and on
 * `stop` stops gracefully: no more reserving, leases of unstarted tasks released, running tasks
 * given the timeout, registry closed, exit 0.
 *
 * The heartbeat is a `setInterval`, so a task that blocks the event loop (CPU-bound work on the
 * async pool) silences it and the master kills and replaces the process (its leases lapse and the
 * tasks run elsewhere), as with a blocked HTTP worker.
 *
 * @module
 */
import { loadRegistry, RegistryLoadError } from "../../cli/load-registry.js";
import { createLogger } from "../../logger.js";
import { heartbeatInterval, isMasterMessage, type ReportedRequest, type WorkerMessage } from "../../supervisor/protocol.js";
import { EXIT_APP_LOAD_ERROR, EXIT_WORKER_BOOT_ERROR } from "../../supervisor/serve-config.js";
import { MB, TASK_WORKER_CONFIG_ENV, type TaskWorkerConfig } from "./task-worker-config.js";
import { PoolStartError, startTaskWorker, type RunningTaskWorker } from "./start-task-worker.js";

/** Sends a message to the master and resolves once it is written (so an exit right after does not lose it). */
function send(message: WorkerMessage): Promise<void> {
  return new Promise((done) => {
    if (process.send === undefined || !process.connected) return done();
    process.send(message, undefined, {}, () => done());
  });
}

/** The error, then its cause's stack. */
function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error ? error.cause : undefined;
  return cause instanceof Error && cause.stack !== undefined ? `${message}\n${cause.stack}` : message;
}

/** Exits with `code` after telling the master why. */
async function bootFailure(code: number, reason: string): Promise<never> {
  process.stderr.write(`laminar task worker ${process.pid}: ${reason}\n`);
  await send({ laminar: "boot-error", message: reason });
  process.exit(code);
}

/** The oldest running task, in the heartbeat's request shape (so the master names it when it kills a blocked worker). */
function oldestTask(running: RunningTaskWorker | undefined): ReportedRequest | undefined {
  const list = (running?.worker as { running?: () => Array<{ task: string; startedAt: number }> } | undefined)?.running?.();
  if (list === undefined || list.length === 0) return undefined;
  const oldest = list.reduce((a, b) => (b.startedAt < a.startedAt ? b : a));
  return { method: "TASK", path: oldest.task, runningMs: Date.now() - oldest.startedAt };
}

async function main(): Promise<void> {
  const raw = process.env[TASK_WORKER_CONFIG_ENV];
  if (raw === undefined) await bootFailure(EXIT_WORKER_BOOT_ERROR, `${TASK_WORKER_CONFIG_ENV} is not set: this file is started by the laminar supervisor`);
  const config = JSON.parse(raw as string) as TaskWorkerConfig;
  let running: RunningTaskWorker | undefined;
  let retired = false;
  const retire = (): void => {
    // Once: the master spawns a replacement and stops this worker when that one consumes.
    if (retired) return;
    retired = true;
    void send({ laminar: "retire", requests: running?.worker.processed ?? 0 });
  };
  const memoryLimit = config.pool === "async" ? config.maxMemoryPerChild * MB : 0;
  const beat = (): void => {
    const rss = process.memoryUsage.rss();
    if (memoryLimit > 0 && rss > memoryLimit && running !== undefined) retire();
    void send({ laminar: "heartbeat", request: oldestTask(running), requests: running?.worker.processed ?? 0, rss });
  };
  // Started before the registry is imported, so a slow import still counts as alive.
  setInterval(beat, heartbeatInterval(config.timeout));

  // Ctrl-C reaches the whole process group: the master decides.
  process.on("SIGINT", () => {});
  // A stop that comes while booting is remembered and acted on once the boot is over.
  let stopRequested: number | undefined;
  let stop = (timeoutMs: number): void => void (stopRequested ??= timeoutMs);
  process.on("message", (message) => {
    if (isMasterMessage(message)) stop(message.timeout);
  });
  process.on("SIGTERM", () => stop(config.gracefulTimeout * 1000));
  // The master is gone: nobody will replace or stop this worker, so it stops itself.
  process.on("disconnect", () => stop(config.gracefulTimeout * 1000));

  process.env.LOG_LEVEL = config.logLevel;
  const logger = createLogger({ level: config.logLevel });
  let registry;
  try {
    registry = await loadRegistry(config.target);
  } catch (error) {
    return bootFailure(EXIT_APP_LOAD_ERROR, describe(error));
  }
  if (stopRequested !== undefined) process.exit(0);
  try {
    running = await startTaskWorker(config, registry, { logger, cwd: process.cwd(), onMaxTasks: retire });
  } catch (error) {
    return bootFailure(error instanceof PoolStartError || error instanceof RegistryLoadError ? EXIT_APP_LOAD_ERROR : EXIT_WORKER_BOOT_ERROR, describe(error));
  }
  await send({ laminar: "listening", url: `tasks://${config.queues.join(",")}` });
  const started = running;
  let closing: Promise<void> | undefined;
  stop = (timeoutMs) => {
    closing ??= started.stop(timeoutMs).then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`laminar task worker ${process.pid}: stop failed: ${describe(error)}\n`);
        process.exit(1);
      },
    );
  };
  if (stopRequested !== undefined) stop(stopRequested);
}

void main();
