/**
 * `runMaster(config)`: the supervisor process. It wires the {@link Arbiter} to node:cluster (spawn),
 * `process.kill`, real timers and the process's signals. The master never imports the app: it
 * forks `worker-main.js` (next to this file once compiled), which does.
 *
 * @module
 */
import cluster, { type Worker } from "node:cluster";
import { fileURLToPath } from "node:url";
import { Arbiter, HANDLED_SIGNALS, type ArbiterDeps, type Clock } from "./arbiter.js";
import { CONFIG_ENV, isWorkerMessage } from "./protocol.js";
import { defaultControlSocket, openControlSocket, type ControlSocket } from "./control-socket.js";
import { watchSources, type SourceWatcher } from "./source-watcher.js";
import { relative } from "node:path";
import type { ServeConfig } from "./serve-config.js";
import { createLogger, type Logger } from "../logger.js";

/** The compiled worker entry. Run from TypeScript sources this `.js` does not exist: the master must run compiled (dist/). */
export const WORKER_ENTRY = fileURLToPath(new URL("./worker-main.js", import.meta.url));

/** Real time: `Date.now()` and `setTimeout`. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, callback) {
    const timer = setTimeout(callback, ms);
    return { cancel: () => clearTimeout(timer) };
  },
};

/** Exit code when the master cannot start as configured (a `--reload-dir` that does not exist): the CLI's usage-error code. */
export const EXIT_USAGE_ERROR = 2;

/** Options for {@link runMaster}, beyond the config; for tests and embedding. */
export interface MasterOptions {
  /** The master's own logger. Default pino at `config.logLevel`. */
  logger?: Logger;
  /** The worker entry to fork. Default {@link WORKER_ENTRY}. */
  workerEntry?: string;
  /**
   * Added to each worker's environment, beside the config: what another entry needs (the task
   * worker's settings, for `laminar worker --processes N`).
   */
  workerEnv?: Record<string, string>;
}

/**
 * Runs the master until shutdown: forks `config.workers` workers and supervises them (see
 * {@link Arbiter}). Resolves with the process's exit code: 0 after a graceful shutdown,
 * `EXIT_APP_LOAD_ERROR` / `EXIT_WORKER_BOOT_ERROR` when a worker could not boot, 130 after a
 * second SIGINT. Must run in the cluster's primary process, once.
 */
export async function runMaster(config: ServeConfig, options: MasterOptions = {}): Promise<number> {
  if (!cluster.isPrimary) throw new Error("runMaster() must run in the primary process");
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  cluster.setupPrimary({ exec: options.workerEntry ?? WORKER_ENTRY, args: [] });
  const workers = new Map<number, Worker>();
  const deps: ArbiterDeps = {
    spawn() {
      const worker = cluster.fork({ ...options.workerEnv, [CONFIG_ENV]: JSON.stringify(config) });
      const pid = worker.process.pid as number;
      workers.set(pid, worker);
      return {
        pid,
        send(message) {
          // The channel closes when the worker dies; the arbiter learns of that from the exit event.
          if (worker.isConnected()) worker.send(message, undefined, () => {});
        },
      };
    },
    kill(pid, signal) {
      try {
        process.kill(pid, signal);
      } catch {
        // Already gone (ESRCH): its exit event is on its way.
      }
    },
    clock: systemClock,
    logger,
  };
  const arbiter = new Arbiter({ workers: config.workers, timeout: config.timeout * 1000, gracefulTimeout: config.gracefulTimeout * 1000 }, deps);

  const onExit = (worker: Worker, code: number | null, signal: NodeJS.Signals | null): void => {
    const pid = worker.process.pid as number;
    workers.delete(pid);
    arbiter.enqueue({ type: "exit", pid, code, signal });
  };
  let url: string | undefined;
  const onMessage = (worker: Worker, message: unknown): void => {
    if (!isWorkerMessage(message)) return;
    if (message.laminar === "listening") url = message.url;
    arbiter.enqueue({ type: "message", pid: worker.process.pid as number, message });
  };
  let watcher: SourceWatcher | undefined;
  if (config.reload) {
    const dirs = config.reloadDirs.split(",").map((dir) => dir.trim()).filter((dir) => dir !== "");
    try {
      watcher = watchSources({
        dirs: dirs.length > 0 ? dirs : [process.cwd()],
        onChange: (files) => {
          // Relative to the working directory when under it, else as they are.
          const shown = files.slice(0, 5).map((file) => (relative(process.cwd(), file).startsWith("..") ? file : relative(process.cwd(), file)));
          arbiter.enqueue({ type: "reload", reason: `changed: ${shown.join(", ")}${files.length > 5 ? `, and ${files.length - 5} more` : ""}` });
        },
        onError: (error) => logger.warn({ err: error }, "supervisor: --reload watcher problem"),
      });
      logger.info({ dirs: dirs.length > 0 ? dirs : [process.cwd()] }, "supervisor: --reload: watching for source changes");
    } catch (error) {
      // A missing directory is a usage mistake: say so and stop rather than serve without the reload asked for.
      logger.error({ err: error }, `supervisor: --reload cannot watch: ${(error as Error).message}`);
      return EXIT_USAGE_ERROR;
    }
  }
  // Signal handlers only enqueue; the arbiter's loop decides.
  const onSignal = (signal: NodeJS.Signals): void => arbiter.enqueue({ type: "signal", signal });
  cluster.on("exit", onExit);
  cluster.on("message", onMessage);
  for (const signal of HANDLED_SIGNALS) process.on(signal, onSignal);
  const startedAt = Date.now();
  const exited = arbiter.run();
  let control: ControlSocket | undefined;
  try {
    const path = config.controlSocket !== "" ? config.controlSocket : defaultControlSocket();
    control = await openControlSocket(path, () => ({
      ...arbiter.status(),
      master: { pid: process.pid, uptimeMs: Date.now() - startedAt, target: config.target, server: config.server, url },
    }));
    logger.info({ controlSocket: path }, "supervisor: `laminar status` answers on the control socket");
  } catch (error) {
    // Status is a convenience: the workers are served without it.
    logger.warn({ err: error }, "supervisor: no control socket; `laminar status` will not find this master");
  }
  try {
    return await exited;
  } finally {
    await watcher?.close();
    await control?.close();
    cluster.off("exit", onExit);
    cluster.off("message", onMessage);
    for (const signal of HANDLED_SIGNALS) process.off(signal, onSignal);
  }
}
