/**
 * Work deferred until the response has been sent: background tasks and dependency cleanups. The route that creates such work registers it on the request's scope; the outermost
 * error layer runs it once the app has returned, i.e. after the final body event was handed to the
 * server, and after any 500 it rendered itself.
 *
 * Nothing is allocated for requests that defer nothing: the list lives in `scope.extensions`,
 * which stays undefined until the first registration.
 *
 * @module
 */
import type { HttpScope } from "../adapter/events.js";
import type { Logger } from "../../lib/logger.js";
import { requestIdOf } from "./request-id.js";

/** A deferred task. */
export type AfterResponseTask = () => Promise<void> | void;

const KEY = "laminar.afterResponse";

/** Registers `task` to run after the response to `scope`'s request has been sent, in registration order. */
export function deferAfterResponse(scope: HttpScope, task: AfterResponseTask): void {
  const extensions = (scope.extensions ??= {});
  const tasks = extensions[KEY] as AfterResponseTask[] | undefined;
  if (tasks === undefined) extensions[KEY] = [task];
  else tasks.push(task);
}

/**
 * Runs the deferred tasks of a request, in order. A failing task is logged and does not stop the
 * others: the response is gone, so there is nobody left to tell but the log.
 *
 * A task may itself defer more work (a background task that registers a cleanup, a cleanup that
 * schedules a follow-up); that work runs after the current batch, so nothing registered while the
 * list is draining is lost.
 */
export async function runAfterResponse(scope: HttpScope, logger: Logger): Promise<void> {
  let tasks = scope.extensions?.[KEY] as AfterResponseTask[] | undefined;
  while (tasks !== undefined) {
    // Detach the batch first, so a registration made while it runs starts the next one.
    delete scope.extensions![KEY];
    for (const task of tasks) {
      try {
        await task();
      } catch (error) {
        logger.error({ err: error, method: scope.method, path: scope.path, requestId: requestIdOf(scope) }, "error in after-response task");
      }
    }
    tasks = scope.extensions?.[KEY] as AfterResponseTask[] | undefined;
  }
}

/** True when the request has deferred work (a cheap check for the hot path). */
export function hasAfterResponse(scope: HttpScope): boolean {
  return scope.extensions !== undefined && scope.extensions[KEY] !== undefined;
}
