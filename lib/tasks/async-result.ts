/**
 * {@link AsyncResult}: the caller's handle on one task (Celery's `AsyncResult`), by id. It reads the
 * result backend; nothing is cached, so two handles on one id always agree.
 *
 * @module
 */
import type { Broker } from "./broker.js";
import { TaskRevokedError, TaskTimeoutError } from "../errors.js";
import type { ResultBackend, TaskMeta } from "./result-backend.js";
import { isReady, type TaskState } from "./states.js";
import { rebuildError, serializeError } from "./task-error.js";

/** Options of {@link AsyncResult.get}. */
export interface GetOptions {
  /** Seconds to wait before throwing TaskTimeoutError; absent: wait until the task is ready (Celery's `timeout=None`). */
  timeout?: number;
  /** Aborting stops the wait and rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * One chunk of an unbounded wait: backends arm timers with the wait's length and Node clamps a delay
 * above 2^31-1 ms to 1 ms, so "forever" is a loop of bounded waits.
 */
const WAIT_CHUNK_MS = 60_000;

/**
 * A task's state and result.
 *
 * @example
 * const result = await add.delay(2, 3);
 * await result.state();               // "PENDING" until a worker takes it
 * await result.get({ timeout: 10 });  // 5, or throws the task's error rebuilt
 */
export class AsyncResult<R = unknown> {
  /** The task id. */
  readonly id: string;
  private readonly broker: Broker;
  private readonly backend: ResultBackend;

  /** A handle on task `id`; `TaskQueue.asyncResult(id)` builds one for an id kept elsewhere. */
  constructor(id: string, where: { broker: Broker; backend: ResultBackend }) {
    this.id = id;
    this.broker = where.broker;
    this.backend = where.backend;
  }

  /** The stored state; PENDING when the backend knows nothing of the task (unknown ids are PENDING too, as in Celery). */
  async state(): Promise<TaskState> {
    return (await this.backend.get(this.id))?.state ?? "PENDING";
  }

  /** Everything stored about the task, or undefined while nothing is. */
  info(): Promise<TaskMeta | undefined> {
    return this.backend.get(this.id);
  }

  /** True once the task is SUCCESS, FAILURE or REVOKED. */
  async ready(): Promise<boolean> {
    return isReady(await this.state());
  }

  /** True when the task succeeded. */
  async successful(): Promise<boolean> {
    return (await this.state()) === "SUCCESS";
  }

  /** True when the task failed for good (FAILURE; REVOKED is not a failure, as in Celery). */
  async failed(): Promise<boolean> {
    return (await this.state()) === "FAILURE";
  }

  /**
   * Waits for the task and returns its result. Throws the task's error rebuilt (`name` = the
   * original type, same message and stack: see `TaskFailedError`), TaskRevokedError when it was
   * revoked or expired, TaskTimeoutError when `timeout` seconds passed first.
   */
  async get(options: GetOptions = {}): Promise<R> {
    const { timeout, signal } = options;
    if (timeout !== undefined && (typeof timeout !== "number" || !(timeout >= 0))) {
      throw new RangeError(`get() timeout must be a number of seconds >= 0, got ${String(timeout)}`);
    }
    signal?.throwIfAborted();
    const meta = timeout === undefined || timeout === Infinity ? await this.waitForever(signal) : await this.backend.waitFor(this.id, { timeoutMs: timeout * 1000, signal });
    signal?.throwIfAborted();
    if (meta === undefined || !isReady(meta.state)) throw new TaskTimeoutError(this.id, timeout);
    return outcome<R>(meta);
  }

  private async waitForever(signal: AbortSignal | undefined): Promise<TaskMeta | undefined> {
    for (;;) {
      const meta = await this.backend.waitFor(this.id, { timeoutMs: WAIT_CHUNK_MS, signal });
      if ((meta !== undefined && isReady(meta.state)) || signal?.aborted) return meta;
    }
  }

  /**
   * Revokes the task: the broker drops its message (now, or when it is published later) and, with
   * `terminate`, workers running it stop it. Unless it already finished, REVOKED is stored at once,
   * so `state()` and `get()` answer without a worker: a pending task never reaches one. A task
   * already running and not terminated keeps running (Celery's revoke does not stop it either): its
   * state is left alone and its own outcome is stored when it ends.
   */
  async revoke(options: { terminate?: boolean } = {}): Promise<void> {
    const terminate = options.terminate === true;
    await this.broker.revoke(this.id, { terminate });
    const meta = await this.backend.get(this.id);
    if (meta !== undefined && (isReady(meta.state) || (meta.state === "STARTED" && !terminate))) return;
    await this.backend.store({
      taskId: this.id,
      state: "REVOKED",
      ...(meta?.name !== undefined ? { name: meta.name } : {}),
      error: serializeError(new TaskRevokedError(this.id, terminate ? "terminated" : "revoked")),
      dateDone: new Date().toISOString(),
      updatedAt: Date.now(),
    });
  }

  /** Drops the stored result (Celery's `forget`); the task reads as PENDING afterwards. */
  forget(): Promise<void> {
    return this.backend.forget(this.id);
  }

  /** `AsyncResult(<id>)`, for logs. */
  toString(): string {
    return `AsyncResult(${this.id})`;
  }
}

/** The result of a ready task, or its error thrown. Shared with GroupResult. */
export function outcome<R>(meta: TaskMeta): R {
  switch (meta.state) {
    case "SUCCESS":
      return meta.result as R;
    case "REVOKED":
      throw revokedError(meta);
    default:
      throw rebuildError(meta.taskId, meta.error ?? { type: "Error", message: `Task ${meta.taskId} failed without a recorded error` });
  }
}

function revokedError(meta: TaskMeta): Error {
  // Always the catalogued class, so `instanceof TaskRevokedError` holds; the stored wording (expired,
  // terminated, revoked) is kept when there is one.
  const error = new TaskRevokedError(meta.taskId, "revoked");
  if (meta.error !== undefined) {
    error.message = meta.error.message;
    if (meta.error.stack !== undefined) error.stack = meta.error.stack;
  }
  return error;
}
