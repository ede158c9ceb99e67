/**
 * The shutdown signals the CLI listens to, behind a small interface so the single-worker runner is
 * tested by calling the handler instead of signalling the test process.
 *
 * @module
 */
import { constants } from "node:os";

/** Signals that start a graceful shutdown. */
export type ShutdownSignal = "SIGINT" | "SIGTERM";

/** Delivers shutdown signals to one handler until unsubscribed. */
export interface SignalSource {
  /** Starts delivering; returns the function that stops it. */
  subscribe(handler: (signal: ShutdownSignal) => void): () => void;
}

/** The process's own SIGINT and SIGTERM. Listening replaces node's default (exit at once). */
export const processSignals: SignalSource = {
  subscribe(handler) {
    const onSignal = (signal: NodeJS.Signals): void => handler(signal as ShutdownSignal);
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    return () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    };
  },
};

/** The shell's exit code for a process ended by `signal`: 128 + its number (130 for SIGINT). */
export function signalExitCode(signal: ShutdownSignal): number {
  return 128 + constants.signals[signal];
}

/** The two stages of a CLI shutdown (see {@link twoStageShutdown}). */
export interface ShutdownControl {
  /** Resolves at the first signal (at once when one already came). */
  requested(): Promise<void>;
  /** Resolves with 128 + n at a second signal: the caller returns it without waiting for the graceful stop. */
  readonly forced: Promise<number>;
  /** Stops listening to the signals. */
  dispose(): void;
}

/**
 * Gunicorn's and Celery's two-stage shutdown: the first SIGINT/SIGTERM asks for a graceful stop,
 * a second one ends the process at once. `say` tells the user which stage each signal started.
 *
 * @example
 * const shutdown = twoStageShutdown(processSignals, {
 *   first: (signal) => `${signal}, stopping gracefully`,
 *   second: (signal) => `second ${signal}, exiting now`,
 * }, console.error);
 * return Promise.race([serveUntil(shutdown.requested()), shutdown.forced]).finally(shutdown.dispose);
 */
export function twoStageShutdown(
  signals: SignalSource,
  say: { first(signal: ShutdownSignal): string; second(signal: ShutdownSignal): string },
  err: (line: string) => void,
): ShutdownControl {
  let signalled = false;
  let request!: () => void;
  const requested = new Promise<void>((resolve) => (request = resolve));
  let force!: (code: number) => void;
  const forced = new Promise<number>((resolve) => (force = resolve));
  const unsubscribe = signals.subscribe((signal) => {
    if (signalled) {
      err(say.second(signal));
      force(signalExitCode(signal));
      return;
    }
    signalled = true;
    err(say.first(signal));
    request();
  });
  return { requested: () => requested, forced, dispose: unsubscribe };
}
