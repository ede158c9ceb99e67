/**
 * Background tasks (FastAPI's `BackgroundTasks`): work a handler or a dependency adds while
 * serving a request, run after the response has been sent.
 *
 * Order after the response, for one request:
 * 1. the background tasks, in the order they were added;
 * 2. then the dependencies' `after-response` cleanups (the code after a `yield`), innermost first.
 *
 * So a task may still use what a dependency holds open (a database session): the cleanup that
 * closes it runs after the task. (FastAPI moved this boundary back and forth, fastapi#11143; here
 * it is fixed and tested.) `after-handler` cleanups run before the response, hence before any task.
 *
 * Tasks run only when the route produced its response: a handler that throws, a validation error,
 * or a failing `after-handler` cleanup drops them, as FastAPI drops the tasks of a response that
 * was never returned. Each task is awaited before the next starts; one that throws is logged (with
 * the request ID when the request-ID layer runs) and the others still run. A graceful close waits
 * for running tasks (bounded by its timeout) before the lifespan shutdown.
 *
 * @module
 */
import type { ConnectionScope, HttpScope } from "../adapter/events.js";
import { deferAfterResponse } from "../middleware/after-response.js";

type Task = () => Promise<void> | void;

const KEY = "laminar.backgroundTasks";

/** The tasks of one request. Get it with `ctx.background` or {@link backgroundTasks}. */
export class BackgroundTasks {
  readonly #scope: HttpScope;
  #pending: Task[] = [];
  #queued = false;

  /** @internal Created by {@link backgroundTasks}, once per request. */
  constructor(scope: HttpScope) {
    this.#scope = scope;
  }

  /**
   * Adds `fn(...args)` to run after the response. Arguments are captured now. A task added after
   * the response was sent (from a cleanup) runs after the tasks already waiting.
   */
  add<A extends unknown[]>(fn: (...args: A) => unknown, ...args: A): void {
    const task: Task = async () => {
      await fn(...args);
    };
    if (this.#queued) deferAfterResponse(this.#scope, task);
    else this.#pending.push(task);
  }

  /** Tasks added and not yet handed over to run. */
  get size(): number {
    return this.#pending.length;
  }

  /** @internal Hands the tasks over to run after the response (the route calls it on success). */
  queue(): void {
    this.#queued = true;
    for (const task of this.#pending) deferAfterResponse(this.#scope, task);
    this.#pending = [];
  }
}

/**
 * The background tasks of the request `scope` belongs to, created on first use. For dependencies,
 * which receive the scope: `backgroundTasks(scope).add(sendMail, to)`. Throws a `TypeError` for a
 * WebSocket scope (a WebSocket has no response to run after).
 */
export function backgroundTasks(scope: ConnectionScope): BackgroundTasks {
  if (scope.type !== "http") throw new TypeError("background tasks belong to HTTP requests; a WebSocket route can run work after close itself");
  const extensions = (scope.extensions ??= {});
  let tasks = extensions[KEY] as BackgroundTasks | undefined;
  if (tasks === undefined) extensions[KEY] = tasks = new BackgroundTasks(scope);
  return tasks;
}

/** Queues the request's tasks, if any (the route's success path). */
export function queueBackgroundTasks(scope: HttpScope): void {
  const tasks = scope.extensions?.[KEY] as BackgroundTasks | undefined;
  if (tasks !== undefined) tasks.queue();
}
