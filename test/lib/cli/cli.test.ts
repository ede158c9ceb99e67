import t from "tap";
import { request } from "undici";
import { createServer } from "node:net";
import { App } from "../../../lib/app.js";
import { silentLogger } from "../../../lib/logger.js";
import { needsMaster, runCli, type CliDeps, type RunMaster } from "../../../lib/cli/cli.js";
import { AppLoadError } from "../../../lib/cli/load-app.js";
import type { ShutdownSignal } from "../../../lib/cli/signals.js";
import { EXIT_APP_LOAD_ERROR, EXIT_WORKER_BOOT_ERROR, type ServeConfig } from "../../../lib/supervisor/serve-config.js";

/** runCli's surroundings, in memory: captured output, a signal the test fires, an app the test builds. */
function harness(options: { app?: () => Promise<App>; runMaster?: RunMaster; files?: Record<string, string> } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  let deliver: ((signal: ShutdownSignal) => void) | undefined;
  let listening!: (url: string) => void;
  const url = new Promise<string>((resolve) => (listening = resolve));
  const env: Record<string, string | undefined> = {};
  const deps: CliDeps = {
    cwd: "/srv",
    env,
    out: (line) => {
      out.push(line);
      const match = /listening on (\S+)/.exec(line);
      if (match) listening(match[1]!);
    },
    err: (line) => err.push(line),
    signals: {
      subscribe(handler) {
        deliver = handler;
        return () => (deliver = undefined);
      },
    },
    readFile: async (path) => {
      const text = options.files?.[path];
      if (text === undefined) throw new Error(`ENOENT: ${path}`);
      return Buffer.from(text);
    },
    readConfigFile: (path) => {
      const text = options.files?.[path];
      if (text === undefined) throw new Error(`ENOENT: ${path}`);
      return text;
    },
    loadApp: async () => (options.app ?? helloApp)(),
    ...(options.runMaster ? { runMaster: options.runMaster } : {}),
  };
  return { deps, out, err, env, url, signal: (s: ShutdownSignal) => deliver?.(s), subscribed: () => deliver !== undefined };
}

async function helloApp(): Promise<App> {
  const app = new App({ logger: silentLogger });
  app.get("/hello", () => ({ message: "hello" }));
  return app;
}

t.test("help and commands", async (t) => {
  const h = harness();
  t.equal(await runCli(["--help"], h.deps), 0);
  t.match(h.out.join("\n"), /Usage: laminar <command>/);
  t.equal(await runCli(["serve", "--help"], h.deps), 0);
  t.match(h.out.at(-1), /Usage: laminar serve/);
  t.equal(await runCli([], h.deps), 2, "no command is a usage error");
  t.equal(await runCli(["deploy"], h.deps), 2);
  t.match(h.err.at(-1), /unknown command "deploy"/);
});

t.test("a usage error exits 2 with the message on stderr", async (t) => {
  const h = harness();
  t.equal(await runCli(["serve", "app.js", "--port", "eighty"], h.deps), 2);
  t.match(h.err.join("\n"), /--port: "eighty" is not an integer/);
});

t.test("the config file path is relative to the working directory", async (t) => {
  const h = harness({ files: { "/srv/laminar.json": '{"workers": 3}' } });
  let seen: ServeConfig | undefined;
  h.deps.runMaster = async (config) => ((seen = config), 0);
  t.equal(await runCli(["serve", "app.js", "--config", "laminar.json"], h.deps), 0);
  t.equal(seen?.workers, 3);
});

t.test("--workers > 1 goes to the master", async (t) => {
  const configs: ServeConfig[] = [];
  const h = harness({ runMaster: async (config) => (configs.push(config), 17) });
  t.equal(await runCli(["serve", "app.js", "-w", "4", "--port", "9000"], h.deps), 17, "the master's exit code");
  t.equal(configs.length, 1);
  t.match(configs[0], { target: "app.js", workers: 4, port: 9000 });
});

t.test("--max-requests and --reload go to the master even with one worker", async (t) => {
  const configs: ServeConfig[] = [];
  const h = harness({ runMaster: async (config) => (configs.push(config), 0) });
  t.equal(await runCli(["serve", "app.js", "--max-requests", "100"], h.deps), 0);
  t.equal(await runCli(["serve", "app.js", "--reload"], h.deps), 0);
  t.match(configs, [{ workers: 1, maxRequests: 100 }, { workers: 1, reload: true }]);
  t.notOk(needsMaster({ ...configs[0]!, maxRequests: 0 }), "one worker and no supervisor flag: no master");
});

t.test("without a master, --workers > 1 is refused clearly", async (t) => {
  const h = harness();
  t.equal(await runCli(["serve", "app.js", "-w", "2"], h.deps), 2);
  t.match(h.err.join("\n"), /need the supervisor/);
});

t.test("single worker: serves, then SIGTERM closes gracefully with exit 0", async (t) => {
  const h = harness();
  const code = runCli(["serve", "app.js", "--port", "0", "--log-level", "warn"], h.deps);
  const url = await h.url;
  t.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  t.equal(h.env.LOG_LEVEL, "warn", "the app's default logger level");
  const response = await request(`${url}/hello`);
  t.same(await response.body.json(), { message: "hello" });
  h.signal("SIGTERM");
  t.equal(await code, 0);
  t.notOk(h.subscribed(), "signal handlers removed");
  await t.rejects(request(`${url}/hello`), "no longer listening");
});

t.test("single worker: a second signal exits at once", async (t) => {
  let release!: () => void;
  const app = await helloApp();
  // A request that does not finish keeps the graceful close waiting.
  app.get("/slow", () => new Promise<object>((resolve) => (release = () => resolve({}))));
  const h = harness({ app: async () => app });
  const code = runCli(["serve", "app.js", "--port", "0", "--graceful-timeout", "600"], h.deps);
  const url = await h.url;
  const slow = request(`${url}/slow`).then((r) => r.body.dump(), () => undefined);
  await new Promise<void>((resolve) => {
    const poll = (): void => (release !== undefined ? resolve() : void setImmediate(poll));
    poll();
  });
  h.signal("SIGINT");
  h.signal("SIGINT");
  t.equal(await code, 130);
  t.match(h.err.join("\n"), /second SIGINT, exiting now/);
  release();
  await slow;
  await app.close({ timeout: 0 });
});

t.test("single worker: an app that cannot be loaded exits EXIT_APP_LOAD_ERROR", async (t) => {
  const h = harness({
    app: async () => {
      throw new AppLoadError("Could not import app.js: boom", { cause: new Error("boom") });
    },
  });
  t.equal(await runCli(["serve", "app.js"], h.deps), EXIT_APP_LOAD_ERROR);
  t.match(h.err.join("\n"), /cannot load the app app.js: Could not import app.js: boom\nError: boom/);
});

t.test("single worker: a port in use exits EXIT_WORKER_BOOT_ERROR", async (t) => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
  t.teardown(() => blocker.close());
  const port = (blocker.address() as { port: number }).port;
  const h = harness();
  t.equal(await runCli(["serve", "app.js", "--port", String(port)], h.deps), EXIT_WORKER_BOOT_ERROR);
  t.match(h.err.join("\n"), /cannot start the app: .*EADDRINUSE/);
});

t.test("single worker: unreadable TLS files exit EXIT_WORKER_BOOT_ERROR", async (t) => {
  const h = harness();
  t.equal(await runCli(["serve", "app.js", "--keyfile", "k.pem", "--certfile", "c.pem"], h.deps), EXIT_WORKER_BOOT_ERROR);
  t.match(h.err.join("\n"), /cannot read the TLS files: ENOENT: \/srv\/k.pem/);
});
