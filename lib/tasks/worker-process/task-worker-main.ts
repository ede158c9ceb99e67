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
import { heartbeatInterval, type ReportedRequest } from "../../supervisor/protocol.js";
import { bootFailure, listenForStop, sendToMaster as send } from "../../supervisor/worker-ipc.js";
import { describeLoadError as describe } from "../../cli/describe-error.js";
import { EXIT_APP_LOAD_ERROR, EXIT_WORKER_BOOT_ERROR } from "../../supervisor/serve-config.js";
import { MB, TASK_WORKER_CONFIG_ENV, type TaskWorkerConfig } from "./task-worker-config.js";
import { PoolStartError, startTaskWorker, type RunningTaskWorker } from "./start-task-worker.js";

const LABEL = "laminar task worker";

/** The oldest running task, in the heartbeat's request shape (so the master names it when it kills a blocked worker). */
function oldestTask(running: RunningTaskWorker | undefined): ReportedRequest | undefined {
  const list = running?.worker.running?.();
  if (list === undefined || list.length === 0) return undefined;
  const oldest = list.reduce((a, b) => (b.startedAt < a.startedAt ? b : a));
  return { method: "TASK", path: oldest.task, runningMs: Date.now() - oldest.startedAt };
}

async function main(): Promise<void> {
  const raw = process.env[TASK_WORKER_CONFIG_ENV];
  if (raw === undefined) await bootFailure(LABEL, EXIT_WORKER_BOOT_ERROR, `${TASK_WORKER_CONFIG_ENV} is not set: this file is started by the laminar supervisor`);
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

  const stops = listenForStop(config.gracefulTimeout * 1000);

  process.env.LOG_LEVEL = config.logLevel;
  const logger = createLogger({ level: config.logLevel });
  let registry;
  try {
    registry = await loadRegistry(config.target);
  } catch (error) {
    return bootFailure(LABEL, EXIT_APP_LOAD_ERROR, describe(error));
  }
  // Stopped while loading: nothing was started, nothing to close.
  if (stops.pending() !== undefined) process.exit(0);
  try {
    running = await startTaskWorker(config, registry, { logger, cwd: process.cwd(), onMaxTasks: retire });
  } catch (error) {
    return bootFailure(LABEL, error instanceof PoolStartError || error instanceof RegistryLoadError ? EXIT_APP_LOAD_ERROR : EXIT_WORKER_BOOT_ERROR, describe(error));
  }
  await send({ laminar: "listening", url: `tasks://${config.queues.join(",")}` });
  const started = running;
  let closing: Promise<void> | undefined;
  stops.handle((timeoutMs) => {
    closing ??= started.stop(timeoutMs).then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`${LABEL} ${process.pid}: stop failed: ${describe(error)}\n`);
        process.exit(1);
      },
    );
  });
}

void main();
