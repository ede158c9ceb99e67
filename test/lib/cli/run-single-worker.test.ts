/**
 * `runSingleWorker` and `--forwarded-allow-ips`: the app is wrapped in proxyHeaders (outermost)
 * unless the setting is empty; an invalid list is a usage error before the app is imported.
 * In-process, real socket on 127.0.0.1; the forwarded headers are sent straight to the app.
 */
import t, { type Test } from "tap";
import { request } from "undici";
import { App } from "../../../lib/app.js";
import { silentLogger } from "../../../lib/logger.js";
import { runSingleWorker, type SingleWorkerDeps } from "../../../lib/cli/run-single-worker.js";
import { EXIT_USAGE } from "../../../lib/cli/usage-error.js";
import type { ShutdownSignal } from "../../../lib/cli/signals.js";
import { DEFAULT_SERVE_CONFIG, type ServeConfig } from "../../../lib/supervisor/serve-config.js";

/** An app answering what it saw of the client, and what a use() middleware saw. */
async function whoApp(): Promise<App> {
  const app = new App({ logger: silentLogger });
  let seenByMiddleware: unknown;
  app.use((next) => (scope, receive, send) => {
    if (scope.type === "http") seenByMiddleware = scope.client?.[0];
    return next(scope, receive, send);
  });
  app.get("/who", ({ scope }) => ({ client: scope.client?.[0], scheme: scope.scheme, middleware: seenByMiddleware }));
  return app;
}

/** Runs the single worker with `forwardedAllowIps`; resolves once it listens (or has exited). */
async function start(t: Test, forwardedAllowIps: string) {
  const err: string[] = [];
  let loaded = 0;
  let deliver: ((signal: ShutdownSignal) => void) | undefined;
  let listening!: (url: string | undefined) => void;
  const url = new Promise<string | undefined>((resolve) => (listening = resolve));
  const deps: SingleWorkerDeps = {
    cwd: "/srv",
    env: {},
    out: (line) => {
      const match = /listening on (\S+)/.exec(line);
      if (match) listening(match[1]!);
    },
    err: (line) => err.push(line),
    signals: { subscribe: (handler) => ((deliver = handler), () => (deliver = undefined)) },
    readFile: async () => Buffer.alloc(0),
    loadApp: async () => (loaded++, whoApp()),
  };
  const config: ServeConfig = { ...DEFAULT_SERVE_CONFIG, target: "app.js", port: 0, forwardedAllowIps };
  const code = runSingleWorker(config, deps);
  void code.then(() => listening(undefined));
  t.teardown(async () => {
    deliver?.("SIGTERM");
    await code;
  });
  return { url: await url, code, err, loaded: () => loaded };
}

const forged = { "x-forwarded-for": "6.6.6.6, 1.2.3.4", "x-forwarded-proto": "https" };

t.test("the default trusted list (127.0.0.1,::1) believes the local proxy, outside every middleware", async (t) => {
  const worker = await start(t, DEFAULT_SERVE_CONFIG.forwardedAllowIps);
  const response = await request(`${worker.url}/who`, { headers: forged });
  t.same(await response.body.json(), { client: "1.2.3.4", scheme: "https", middleware: "1.2.3.4" });
});

t.test("a list without this peer: the headers are ignored", async (t) => {
  const worker = await start(t, "10.0.0.0/8");
  const response = await request(`${worker.url}/who`, { headers: forged });
  t.same(await response.body.json(), { client: "127.0.0.1", scheme: "http", middleware: "127.0.0.1" });
});

t.test("an empty list trusts nobody", async (t) => {
  const worker = await start(t, "");
  const response = await request(`${worker.url}/who`, { headers: forged });
  t.same(await response.body.json(), { client: "127.0.0.1", scheme: "http", middleware: "127.0.0.1" });
});

t.test("an invalid list exits EXIT_USAGE with the entry named, before the app is imported", async (t) => {
  const worker = await start(t, "127.0.0.1,localhost");
  t.equal(worker.url, undefined, "never listened");
  t.equal(await worker.code, EXIT_USAGE);
  t.match(worker.err.join("\n"), /--forwarded-allow-ips: Invalid forwarded-allow-ips entry "localhost"/);
  t.equal(worker.loaded(), 0);
});
