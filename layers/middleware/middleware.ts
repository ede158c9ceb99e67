/**
 * Layer 3, the middleware contract: a middleware takes the next app and returns an app.
 *
 * There is exactly one contract (no second "base HTTP middleware" beside it, the trap Starlette's
 * `BaseHTTPMiddleware` fell into): whatever a middleware wants to do — read the scope, wrap
 * `receive` or `send`, answer early, catch errors — it does in the app it returns. Chains are built
 * once, at startup, by {@link compose}.
 *
 * @module
 */
import type { App } from "../adapter/events.js";

/** Wraps an app in another app. Called once at startup, never per request. */
export type Middleware = (next: App) => App;

/**
 * Composes middleware around `app`: the first middleware in the list is the outermost, so a
 * request meets them in list order and the response leaves in reverse (the onion).
 *
 * @example
 * const handle = compose([errors, cors, exceptions], router);
 */
export function compose(middleware: readonly Middleware[], app: App): App {
  return middleware.reduceRight<App>((next, wrap) => wrap(next), app);
}
