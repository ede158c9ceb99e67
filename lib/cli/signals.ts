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
