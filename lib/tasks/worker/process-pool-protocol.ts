/**
 * The IPC messages between the {@link ProcessPool} and its children, and how an error crosses
 * between them: serialized in the child ({@link encodeError}), rebuilt in the parent
 * ({@link decodeError}) so the worker can still tell a `Retry` from a failure and read an error's
 * name, message and stack.
 *
 * @module
 */
import type { TaskMessage } from "../message.js";
import { Retry } from "../registry.js";
import { serializeError, type SerializedError } from "../task-error.js";
import {
  MaxRetriesExceededError,
  NotRegistered,
  SoftTimeLimitExceeded,
  TaskArgumentsError,
  TaskRevokedError,
  TimeLimitExceeded,
  WorkerLostError,
  type LaminarErrorClass,
} from "../../errors.js";

/** An error as it crosses the pipe; a `Retry` keeps what the worker needs to schedule it. */
export interface WireError extends SerializedError {
  retry?: { countdown?: number; eta?: number; maxRetries?: number | null; exc?: SerializedError };
}

/** Parent → child. */
export type ToChild =
  /** Run `message`'s task; answer with `done` or `failed` carrying the same `id`. */
  | { type: "run"; id: number; message: TaskMessage }
  /** The soft time limit of execution `id` passed: abort its signal with SoftTimeLimitExceeded(seconds). */
  | { type: "soft"; id: number; seconds: number };

/** Child → parent. */
export type FromChild =
  /** The registry loaded: the child takes tasks. */
  | { type: "ready" }
  /** The registry could not be loaded; the child exits next. */
  | { type: "boot-error"; message: string }
  /** Execution `id` returned `value`; `rss` is the child's resident memory afterwards, in bytes. */
  | { type: "done"; id: number; value?: unknown; rss: number }
  /** Execution `id` threw. */
  | { type: "failed"; id: number; error: WireError; rss: number };

/** True for a message a pool child sent (anything else on the channel is ignored). */
export function isFromChild(message: unknown): message is FromChild {
  if (typeof message !== "object" || message === null) return false;
  const type = (message as { type?: unknown }).type;
  return type === "ready" || type === "boot-error" || type === "done" || type === "failed";
}

/** True for a message the pool sent. */
export function isToChild(message: unknown): message is ToChild {
  if (typeof message !== "object" || message === null) return false;
  const type = (message as { type?: unknown }).type;
  return type === "run" || type === "soft";
}

/**
 * Serializes what a task threw. A `Retry` is recognised by class or, when the task's module uses
 * another copy of laminar, by name.
 */
export function encodeError(error: unknown): WireError {
  const wire: WireError = serializeError(error);
  if (error instanceof Retry || (error instanceof Error && error.name === "Retry")) {
    const retry = error as Retry;
    wire.type = "Retry";
    wire.retry = {
      countdown: retry.countdown,
      eta: retry.eta,
      maxRetries: retry.maxRetries,
      exc: retry.exc !== undefined ? serializeError(retry.exc) : undefined,
    };
    // The fields travel in `retry`; `data` would only repeat them.
    delete wire.data;
  }
  return wire;
}

/**
 * The task-queue errors rebuilt as instances of their class, so the worker's checks (a
 * TaskArgumentsError is never retried, …) hold for errors raised in a child.
 */
const CATALOGUED: Readonly<Record<string, LaminarErrorClass>> = {
  NotRegistered,
  TaskArgumentsError,
  SoftTimeLimitExceeded,
  TimeLimitExceeded,
  MaxRetriesExceededError,
  TaskRevokedError,
  WorkerLostError,
};

/** A plain `Error` with the remote name, message, stack and data. */
function rebuild(remote: SerializedError): Error {
  const Catalogued = Object.hasOwn(CATALOGUED, remote.type) ? CATALOGUED[remote.type] : undefined;
  const error: Error = Catalogued !== undefined ? new Catalogued() : new Error(remote.message);
  for (const [key, value] of Object.entries(remote.data ?? {})) {
    // Own properties only: a `__proto__` key from the wire must not become the error's prototype.
    Object.defineProperty(error, key, { value, writable: true, enumerable: true, configurable: true });
  }
  // Own properties, after the data: a catalogued class's `name` is a getter on its prototype, and the
  // message was formatted with no arguments.
  if (Catalogued === undefined) Object.defineProperty(error, "name", { value: remote.type, writable: true, configurable: true });
  error.message = remote.message;
  if (remote.stack !== undefined) error.stack = remote.stack;
  return error;
}

/** Rebuilds an error sent by {@link encodeError}: a `Retry` as a `Retry`, catalogued errors as their class, others as an `Error` named like the original. */
export function decodeError(wire: WireError): Error {
  if (wire.type === "Retry" && wire.retry !== undefined) {
    const { countdown, eta, maxRetries, exc } = wire.retry;
    const retry = new Retry({ countdown, eta, maxRetries, exc: exc !== undefined ? rebuild(exc) : undefined });
    if (wire.stack !== undefined) retry.stack = wire.stack;
    return retry;
  }
  return rebuild(wire);
}
