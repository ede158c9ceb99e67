/**
 * A supervisor worker's entry point: the file `master.ts` forks. It reads its {@link ServeConfig}
 * from the environment, sends heartbeats from the start, loads and serves the app, and closes it
 * gracefully when the master says so.
 *
 * Boot failures exit with the codes the master acts on, after sending the reason over IPC:
 * {@link EXIT_APP_LOAD_ERROR} when the app cannot be imported, {@link EXIT_WORKER_BOOT_ERROR}
 * when its lifespan startup fails or the address cannot be bound.
 *
 * The heartbeat is a `setInterval`: it is sent only while the event loop turns, so a loop blocked
 * by a request (a busy CPU loop, synchronous I/O) goes silent and the master kills the worker. It
 * is a liveness check, not a per-request time limit: a request awaiting a slow database keeps the
 * loop free and the heartbeat going.
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { App } from "../app.js";
import type { Middleware } from "../../layers/middleware/middleware.js";
import { loadApp, describeLoadError } from "../cli/load-app.js";
import { proxyHeaders } from "../../layers/middleware/proxy-headers.js";
import { CONFIG_ENV, heartbeatInterval, type ReportedRequest } from "./protocol.js";
import { bootFailure, listenForStop, sendToMaster } from "./worker-ipc.js";
import { EXIT_APP_LOAD_ERROR, EXIT_WORKER_BOOT_ERROR, type ServeConfig } from "./serve-config.js";

/** What the heartbeat reports of the requests; fed by {@link requestTracker}'s middleware. */
interface RequestTracker {
  middleware: Middleware;
  /** The oldest HTTP request in flight. */
  oldest(): ReportedRequest | undefined;
  /** Requests served (started) so far, WebSocket connections included. */
  count(): number;
}

/**
 * Tracks the requests in flight (insertion-ordered, so the first is the oldest) for the heartbeat
 * to report, and counts them for `--max-requests`. A Set add/delete and an increment per request:
 * no IPC per request. `onCount` runs after each increment.
 */
function requestTracker(onCount: (count: number) => void): RequestTracker {
  const inFlight = new Set<{ method: string; path: string; since: number }>();
  let served = 0;
  return {
    count: () => served,
    middleware: (next) => async (scope, receive, send) => {
      if (scope.type === "lifespan") return next(scope, receive, send);
      onCount(++served);
      // WebSockets are not tracked in flight: one open for hours would always be "the oldest request".
      if (scope.type !== "http") return next(scope, receive, send);
      const entry = { method: scope.method, path: scope.path, since: Date.now() };
      inFlight.add(entry);
      try {
        await next(scope, receive, send);
      } finally {
        inFlight.delete(entry);
      }
    },
    oldest() {
      for (const entry of inFlight) return { method: entry.method, path: entry.path, runningMs: Date.now() - entry.since };
      return undefined;
    },
  };
}

const LABEL = "laminar worker";

async function main(): Promise<void> {
  const raw = process.env[CONFIG_ENV];
  if (raw === undefined) await bootFailure(LABEL, EXIT_WORKER_BOOT_ERROR, `${CONFIG_ENV} is not set: this file is started by the laminar supervisor`);
  const config = JSON.parse(raw as string) as ServeConfig;
  // --max-requests plus this worker's share of the jitter, so workers started together retire apart.
  const limit = config.maxRequests > 0 ? config.maxRequests + Math.floor(Math.random() * (config.maxRequestsJitter + 1)) : 0;
  const tracker = requestTracker((count) => {
    // Once: the master spawns a replacement and stops this worker when that one listens.
    if (count === limit) void sendToMaster({ laminar: "retire", requests: count });
  });
  const beat = (): void => void sendToMaster({ laminar: "heartbeat", request: tracker.oldest(), requests: tracker.count(), rss: process.memoryUsage.rss() });
  // Started before the app is imported, so a slow import still counts as alive (its await turns the loop).
  setInterval(beat, heartbeatInterval(config.timeout));

  // Ctrl-C is ignored (the master decides); the master's stop, SIGTERM and the master's death stop this worker.
  const stops = listenForStop(config.gracefulTimeout * 1000);

  // The app's default logger reads LOG_LEVEL when the App is constructed, i.e. while its module is imported.
  process.env.LOG_LEVEL = config.logLevel;
  let app: App;
  try {
    app = await loadApp(config.target);
  } catch (error) {
    return bootFailure(LABEL, EXIT_APP_LOAD_ERROR, describeLoadError(error));
  }
  // Stopped while loading: nothing was started, nothing to close.
  if (stops.pending() !== undefined) process.exit(0);
  app.use(tracker.middleware);
  // Outside everything else, so logs and every middleware see the client the proxy forwarded.
  // (The CLI checked the list before starting the master: this cannot throw for a bad entry.)
  if (config.forwardedAllowIps !== "") app.wrap(proxyHeaders({ trustedHosts: config.forwardedAllowIps }), { outermost: true });

  let closing: Promise<void> | undefined;
  const close = (timeoutMs: number): void => {
    closing ??= app
      .close({ timeout: timeoutMs })
      .then(
        () => process.exit(0),
        (error: unknown) => {
          process.stderr.write(`laminar worker ${process.pid}: close failed: ${describeLoadError(error)}\n`);
          process.exit(1);
        },
      );
  };
  try {
    const tls =
      config.keyfile !== undefined && config.certfile !== undefined
        ? { key: await readFile(resolve(config.keyfile)), cert: await readFile(resolve(config.certfile)) }
        : undefined;
    const { url } = await app.listen({ host: config.host, port: config.port, tls, server: config.server, reusePort: true });
    await sendToMaster({ laminar: "listening", url });
  } catch (error) {
    return bootFailure(LABEL, EXIT_WORKER_BOOT_ERROR, describeLoadError(error));
  }
  stops.handle(close);
}

void main();
