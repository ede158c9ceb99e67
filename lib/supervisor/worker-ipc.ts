/**
 * What every supervised worker entry (the HTTP `worker-main.ts`, the task queue's
 * `task-worker-main.ts`) does the same way: send messages to the master, fail its boot with a
 * reason, and learn when to stop.
 *
 * @module
 */
import { isMasterMessage, type WorkerMessage } from "./protocol.js";

/** Sends a message to the master and resolves once it is written (so an exit right after does not lose it). */
export function sendToMaster(message: WorkerMessage): Promise<void> {
  return new Promise((done) => {
    if (process.send === undefined || !process.connected) return done();
    process.send(message, undefined, {}, () => done());
  });
}

/** Exits with `code` after telling the master why (and writing it on stderr, prefixed with `label` and the pid). */
export async function bootFailure(label: string, code: number, reason: string): Promise<never> {
  process.stderr.write(`${label} ${process.pid}: ${reason}\n`);
  await sendToMaster({ laminar: "boot-error", message: reason });
  process.exit(code);
}

/** The stop requests a worker receives (see {@link listenForStop}). */
export interface StopRequests {
  /** The timeout (ms) of a stop that came before {@link StopRequests.handle}, if one did. */
  pending(): number | undefined;
  /** From now on stops call `handler`; a stop that came earlier is handed over at once. */
  handle(handler: (timeoutMs: number) => void): void;
}

/**
 * Listens, from the start of the process, for the three ways a worker is told to stop: the master's
 * `stop` message, SIGTERM, and the master's disappearance (IPC disconnect: nobody will replace or
 * stop this worker, so it stops itself). SIGINT is ignored: Ctrl-C reaches the whole process group
 * and the master decides. Until the worker has booted a stop is only remembered: a message nobody
 * listens for is dropped, and a stop sent during a slow import must not be lost.
 */
export function listenForStop(gracefulTimeoutMs: number): StopRequests {
  let pending: number | undefined;
  let handler: ((timeoutMs: number) => void) | undefined;
  const stop = (timeoutMs: number): void => {
    if (handler !== undefined) handler(timeoutMs);
    else pending ??= timeoutMs;
  };
  process.on("SIGINT", () => {});
  process.on("message", (message) => {
    if (isMasterMessage(message)) stop(message.timeout);
  });
  process.on("SIGTERM", () => stop(gracefulTimeoutMs));
  process.on("disconnect", () => stop(gracefulTimeoutMs));
  return {
    pending: () => pending,
    handle(next) {
      handler = next;
      if (pending !== undefined) next(pending);
    },
  };
}
