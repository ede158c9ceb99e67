/**
 * Errors crossing process boundaries: a task's error is stored as {@link SerializedError} and
 * rebuilt for the caller of `AsyncResult.get()` with its type name, message and stack, so
 * `error.name === "ValueError"` holds on the other side whatever process raised it.
 *
 * @module
 */

/** An error as the result backend keeps it. `type` is the class name (Celery's `exc_type`). */
export interface SerializedError {
  type: string;
  message: string;
  stack?: string;
  /** Where the type lives (Celery's `exc_module`; `"builtins"` for Python's own). */
  module?: string;
  /** The error's own enumerable data (`code`, `status`, …) when it is plain JSON. */
  data?: Record<string, unknown>;
}

/** Turns anything thrown into a {@link SerializedError}. */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    const data: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(error)) {
      if (key === "name" || key === "message" || key === "stack" || key === "cause") continue;
      try {
        JSON.stringify(value);
        data[key] = value;
      } catch {
        // Not JSON (a socket, a cycle): left out rather than failing to record the error.
      }
    }
    const type = error.name !== "Error" ? error.name : error.constructor?.name ?? "Error";
    return { type, message: error.message, stack: error.stack, ...(Object.keys(data).length > 0 ? { data } : {}) };
  }
  return { type: "Error", message: typeof error === "string" ? error : safeString(error) };
}

function safeString(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * The error `AsyncResult.get()` throws for a failed task: an `Error` whose `name` is the original
 * type, whose message and stack are the original ones, and whose `remote` keeps what was stored.
 */
export class TaskFailedError extends Error {
  /** The error as stored. */
  readonly remote: SerializedError;
  /** The failed task's id. */
  readonly taskId: string;

  constructor(taskId: string, remote: SerializedError) {
    super(remote.message);
    this.name = remote.type;
    this.remote = remote;
    this.taskId = taskId;
    if (remote.data !== undefined) Object.assign(this, remote.data);
    if (remote.stack !== undefined) this.stack = remote.stack;
  }
}

/** Rebuilds a stored error for the caller (see {@link TaskFailedError}). */
export function rebuildError(taskId: string, remote: SerializedError): TaskFailedError {
  return new TaskFailedError(taskId, remote);
}
