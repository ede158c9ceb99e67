/**
 * The request's `AbortSignal`: how a handler learns that its answer is no longer wanted, so it can
 * stop work (pass it to `fetch`, a database driver, or check it in a loop).
 *
 * A layer that gives up on a request calls {@link abortRequest}: {@link requestTimeout} when the
 * time limit passes, and the streaming body writer (`StreamingResponse`, `EventSourceResponse`)
 * when the client goes away while it streams;
 * handlers call {@link requestSignal} with their scope (`requestSignal(ctx.scope)`). The controller
 * lives in `scope.extensions`, created by whichever side comes first, so a request whose handler
 * never asks and that never times out allocates nothing, and a handler that asks after the abort
 * still gets an aborted signal. Several producers share the one controller: the first abort wins
 * and its reason is `signal.reason`.
 *
 * Not covered: a client that disconnects while an ordinary (non-streaming) handler is still
 * computing. The event interface reports a disconnect only through `receive()`, which the handler
 * owns until its body is read (reading it in the background would steal body events); a streaming
 * response watches `receive()` itself once the body is consumed, which is why it can abort.
 *
 * @module
 */
import type { ConnectionScope } from "../adapter/events.js";

const KEY = "laminar.abortController";

function controllerOf(scope: ConnectionScope): AbortController {
  const extensions = (scope.extensions ??= {});
  let controller = extensions[KEY] as AbortController | undefined;
  if (controller === undefined) {
    controller = new AbortController();
    extensions[KEY] = controller;
  }
  return controller;
}

/**
 * The signal that aborts when a layer gives up on this request (see the module comment). Without
 * such a layer it simply never aborts, so handlers can always pass it on.
 *
 * @example
 * app.get("/report", async (ctx) => {
 *   const res = await fetch(upstream, { signal: requestSignal(ctx.scope) });
 *   return res.json();
 * });
 */
export function requestSignal(scope: ConnectionScope): AbortSignal {
  return controllerOf(scope).signal;
}

/** Aborts the request's signal with `reason` (a no-op if it was already aborted). */
export function abortRequest(scope: ConnectionScope, reason: unknown): void {
  controllerOf(scope).abort(reason);
}
