/**
 * How every HTTP adapter runs the app for one request, and hands the outcome to its exchange.
 *
 * Most responses complete inside the app call: a synchronous handler, a serializer, and a server
 * that takes both events at once. The pipeline then returns the shared {@link SENT} promise all the
 * way up, and this function settles the request in the same call, with no async frame and no
 * microtask of its own. Anything else (an async handler, a streamed body) is awaited.
 *
 * @module
 */
import type { App, HttpScope, Receive, Send } from "./events.js";
import { SENT } from "./events.js";

/** What an adapter's per-request state offers {@link runApp}. */
export interface AppOutcome {
  /** The `receive` the app gets (bound once per request). */
  readonly receive: Receive;
  /** The `send` the app gets (bound once per request). */
  readonly send: Send;
  /** The app returned: repair an unfinished response. */
  appReturned(scope: HttpScope): void;
  /** The app threw or rejected: answer 500 or cut the connection, by the protocol state. */
  appFailed(scope: HttpScope, err: unknown): void;
}

/**
 * Runs `app` for one request and applies the response-started invariant to however it ends: a
 * synchronous throw and a rejection go to `appFailed`, a return (now or later) to `appReturned`.
 */
export function runApp(app: App, scope: HttpScope, exchange: AppOutcome): void {
  let result: Promise<void>;
  try {
    result = app(scope, exchange.receive, exchange.send);
  } catch (err) {
    exchange.appFailed(scope, err);
    return;
  }
  // SENT is resolved by construction: the app is done, nothing to wait for.
  if (result === SENT) exchange.appReturned(scope);
  else void settleLater(result, scope, exchange);
}

/** The app is still running: wait for it (one async frame, no closures). */
async function settleLater(result: Promise<void>, scope: HttpScope, exchange: AppOutcome): Promise<void> {
  try {
    await result;
  } catch (err) {
    exchange.appFailed(scope, err);
    return;
  }
  exchange.appReturned(scope);
}
