/**
 * `laminar serve --workers 1`: the app runs in this process, with no master. Load, wrap it in the
 * proxy-headers layer (`--forwarded-allow-ips`), listen, print the URL, and on SIGTERM/SIGINT close
 * gracefully; a second signal ends it at once.
 *
 * @module
 */
import { describeLoadError } from "./load-app.js";
import { resolve } from "node:path";
import type { App } from "../app.js";
import type { TlsOptions } from "../../layers/server/connection-server.js";
import { EXIT_APP_LOAD_ERROR, EXIT_WORKER_BOOT_ERROR, type ServeConfig } from "../supervisor/serve-config.js";
import type { Middleware } from "../../layers/middleware/middleware.js";
import { proxyHeaders } from "../../layers/middleware/proxy-headers.js";
import { twoStageShutdown, type SignalSource } from "./signals.js";
import { EXIT_USAGE } from "./usage-error.js";

/** Exit code when the graceful close itself failed. */
export const EXIT_SHUTDOWN_ERROR = 1;

/** What the single-worker runner uses from its surroundings; injected so tests run it in-process. */
export interface SingleWorkerDeps {
  /** Directory the app target and PEM paths are relative to. */
  cwd: string;
  /** Environment the app's default logger reads `LOG_LEVEL` from; `process.env` in the CLI. */
  env: Record<string, string | undefined>;
  /** Writes one line to stdout (the listening URL) / stderr (everything a person should read). */
  out(line: string): void;
  err(line: string): void;
  signals: SignalSource;
  readFile(path: string): Promise<Buffer>;
  loadApp(target: string, cwd: string): Promise<App>;
}

/**
 * Runs the app until a shutdown signal; resolves with the process's exit code: 0 after a clean
 * shutdown, `EXIT_USAGE` for an invalid `--forwarded-allow-ips`, `EXIT_APP_LOAD_ERROR` /
 * `EXIT_WORKER_BOOT_ERROR` at boot, 128 + n after a second signal.
 */
export async function runSingleWorker(config: ServeConfig, deps: SingleWorkerDeps): Promise<number> {
  const shutdown = twoStageShutdown(
    deps.signals,
    {
      first: (signal) => `laminar: ${signal}, shutting down gracefully (up to ${config.gracefulTimeout} s; ${signal} again to exit now)`,
      second: (signal) => `laminar: second ${signal}, exiting now`,
    },
    deps.err,
  );

  const run = async (): Promise<number> => {
    // The app's default logger reads LOG_LEVEL when the App is constructed, i.e. while its module is imported.
    deps.env.LOG_LEVEL = config.logLevel;
    // Parsed before the app is imported: a typo in the trusted list fails before the app's own startup code runs.
    let forwarded: Middleware | undefined;
    try {
      forwarded = config.forwardedAllowIps === "" ? undefined : proxyHeaders({ trustedHosts: config.forwardedAllowIps });
    } catch (error) {
      deps.err(`laminar: --forwarded-allow-ips: ${describeLoadError(error)}`);
      return EXIT_USAGE;
    }
    let app: App;
    try {
      app = await deps.loadApp(config.target, deps.cwd);
    } catch (error) {
      deps.err(`laminar: cannot load the app ${config.target}: ${describeLoadError(error)}`);
      return EXIT_APP_LOAD_ERROR;
    }
    // Outermost, so logs, the error layer and every middleware see the client behind the proxy.
    if (forwarded !== undefined) app.wrap(forwarded, { outermost: true });
    let tls: TlsOptions | undefined;
    if (config.keyfile !== undefined && config.certfile !== undefined) {
      try {
        tls = { key: await deps.readFile(resolve(deps.cwd, config.keyfile)), cert: await deps.readFile(resolve(deps.cwd, config.certfile)) };
      } catch (error) {
        deps.err(`laminar: cannot read the TLS files: ${describeLoadError(error)}`);
        return EXIT_WORKER_BOOT_ERROR;
      }
    }
    try {
      const address = await app.listen({ host: config.host, port: config.port, server: config.server, ...(tls ? { tls } : {}) });
      deps.out(`laminar: listening on ${address.url} (server ${config.server}, pid ${process.pid})`);
    } catch (error) {
      deps.err(`laminar: cannot start the app: ${describeLoadError(error)}`);
      return EXIT_WORKER_BOOT_ERROR;
    }
    // At once when a signal came while the app was starting.
    await shutdown.requested();
    try {
      await app.close({ timeout: config.gracefulTimeout * 1000 });
    } catch (error) {
      deps.err(`laminar: shutdown failed: ${describeLoadError(error)}`);
      return EXIT_SHUTDOWN_ERROR;
    }
    deps.err("laminar: stopped");
    return 0;
  };

  try {
    return await Promise.race([run(), shutdown.forced]);
  } finally {
    shutdown.dispose();
  }
}
