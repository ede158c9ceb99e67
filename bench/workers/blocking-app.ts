/**
 * The blocking-handler bench app, served by `laminar serve` (export `app`):
 *
 * - `GET /hello`: the fast route, `{"message":"hello"}`;
 * - `GET /block?ms=20`: burns `ms` milliseconds of CPU synchronously (at most 1000) — a handler
 *   that never awaits, as a JSON encode of a huge document or a synchronous hash would. Its worker's
 *   event loop can do nothing else meanwhile: every other request that worker holds waits.
 * - `GET /pid`: the worker's pid.
 *
 * @module
 */
import { App, Type } from "../../lib/index.js";

/** The app. */
export const app = new App();

app.get("/hello", () => ({ message: "hello" }));
app.get("/pid", () => ({ pid: process.pid }));
app.get("/block", { query: Type.Object({ ms: Type.Integer({ minimum: 0, maximum: 1000, default: 20 }) }) }, ({ query }) => {
  const until = performance.now() + query.ms;
  let spins = 0;
  // A busy loop on purpose: no await, so nothing else runs on this event loop until it ends.
  while (performance.now() < until) spins++;
  return { blockedMs: query.ms, spins };
});
