import t, { type Test } from "tap";
import { resolveServeConfig, type ResolveSources } from "../../../lib/cli/resolve-serve-config.js";
import { UsageError } from "../../../lib/cli/usage-error.js";
import { DEFAULT_SERVE_CONFIG, type ServeConfig } from "../../../lib/supervisor/serve-config.js";

function sources(env: Record<string, string> = {}, files: Record<string, string> = {}): ResolveSources {
  return {
    env,
    readConfigFile: (path) => {
      const text = files[path];
      if (text === undefined) throw new Error(`ENOENT: no such file, open '${path}'`);
      return text;
    },
  };
}

function serve(args: string[], src = sources()): ServeConfig {
  const result = resolveServeConfig(args, src);
  if (result.kind !== "serve") throw new Error("expected serve");
  return result.config;
}

function usageError(t: Test, args: string[], pattern: RegExp, src = sources()): void {
  t.throws(() => resolveServeConfig(args, src), UsageError);
  t.throws(() => resolveServeConfig(args, src), { message: pattern });
}

t.test("defaults with only the app", async (t) => {
  t.strictSame(serve(["app.js"]), { ...DEFAULT_SERVE_CONFIG, target: "app.js" });
});

t.test("every flag", async (t) => {
  const config = serve([
    "app.js:api",
    "--workers", "4",
    "--server", "uws",
    "--host", "0.0.0.0",
    "--port", "9001",
    "--timeout", "2.5",
    "--graceful-timeout", "7",
    "--keyfile", "k.pem",
    "--certfile", "c.pem",
    "--reload",
    "--reload-dir", "src,lib",
    "--max-requests", "1000",
    "--max-requests-jitter", "50",
    "--forwarded-allow-ips", "10.0.0.0/8,*",
    "--control-socket", "/run/laminar.sock",
    "--log-level", "debug",
  ]);
  t.strictSame(config, {
    target: "app.js:api",
    workers: 4,
    server: "uws",
    host: "0.0.0.0",
    port: 9001,
    timeout: 2.5,
    gracefulTimeout: 7,
    keyfile: "k.pem",
    certfile: "c.pem",
    reload: true,
    reloadDirs: "src,lib",
    maxRequests: 1000,
    maxRequestsJitter: 50,
    forwardedAllowIps: "10.0.0.0/8,*",
    controlSocket: "/run/laminar.sock",
    logLevel: "debug",
  });
});

t.test("short flags and --flag=value", async (t) => {
  const config = serve(["app.js", "-w", "3", "-p", "9000", "-t", "0", "--host=::1"]);
  t.equal(config.workers, 3);
  t.equal(config.port, 9000);
  t.equal(config.timeout, 0);
  t.equal(config.host, "::1");
});

t.test("every setting from the environment", async (t) => {
  const config = serve([], sources({
    LAMINAR_APP: "env-app.js",
    LAMINAR_WORKERS: "2",
    LAMINAR_SERVER: "uws",
    LAMINAR_HOST: "::",
    LAMINAR_PORT: "8081",
    LAMINAR_TIMEOUT: "10",
    LAMINAR_GRACEFUL_TIMEOUT: "5",
    LAMINAR_KEYFILE: "k.pem",
    LAMINAR_CERTFILE: "c.pem",
    LAMINAR_RELOAD: "yes",
    LAMINAR_RELOAD_DIRS: "src",
    LAMINAR_MAX_REQUESTS: "10",
    LAMINAR_MAX_REQUESTS_JITTER: "2",
    LAMINAR_FORWARDED_ALLOW_IPS: "*",
    LAMINAR_CONTROL_SOCKET: "/tmp/c.sock",
    LAMINAR_LOG_LEVEL: "warn",
  }));
  t.strictSame(config, {
    target: "env-app.js", workers: 2, server: "uws", host: "::", port: 8081, timeout: 10,
    gracefulTimeout: 5, keyfile: "k.pem", certfile: "c.pem", reload: true, reloadDirs: "src", maxRequests: 10,
    maxRequestsJitter: 2, forwardedAllowIps: "*", controlSocket: "/tmp/c.sock", logLevel: "warn",
  });
});

t.test("every setting from the config file", async (t) => {
  const file = JSON.stringify({
    target: "file-app.js", workers: 3, server: "uws", host: "10.0.0.1", port: 8082, timeout: 11,
    gracefulTimeout: 6, keyfile: "k.pem", certfile: "c.pem", reload: true, reloadDirs: "app", maxRequests: 5,
    maxRequestsJitter: 1, forwardedAllowIps: "", controlSocket: "c.sock", logLevel: "error",
  });
  const config = serve(["--config", "laminar.json"], sources({}, { "laminar.json": file }));
  t.strictSame(config, {
    target: "file-app.js", workers: 3, server: "uws", host: "10.0.0.1", port: 8082, timeout: 11,
    gracefulTimeout: 6, keyfile: "k.pem", certfile: "c.pem", reload: true, reloadDirs: "app", maxRequests: 5,
    maxRequestsJitter: 1, forwardedAllowIps: "", controlSocket: "c.sock", logLevel: "error",
  });
});

t.test("an empty --forwarded-allow-ips trusts nobody; an empty --port is still an error", async (t) => {
  t.equal(serve(["app.js", "--forwarded-allow-ips", ""]).forwardedAllowIps, "");
  t.equal(serve(["app.js"]).forwardedAllowIps, "127.0.0.1,::1", "default: the local proxy only");
  t.throws(() => serve(["app.js", "--host", ""]), /--host: "" is not a non-empty string/);
  t.throws(() => serve(["app.js", "--max-requests=-1"]), /below the minimum 0/);
  t.throws(() => serve(["app.js", "--forwarded-allow-ips", "127.0.0.1,localhost"]), /--forwarded-allow-ips: .*localhost/, "a host name is refused, not silently ignored");
  t.throws(() => serve(["app.js"], sources({ LAMINAR_FORWARDED_ALLOW_IPS: "10.0.0.0/33" })), /--forwarded-allow-ips/);
});

t.test("precedence: flag > env > config file > default", async (t) => {
  const files = { "c.json": JSON.stringify({ target: "file.js", port: 1001, workers: 5, host: "file-host" }) };
  const env = { LAMINAR_PORT: "1002", LAMINAR_WORKERS: "6", LAMINAR_APP: "env.js" };
  const config = serve(["flag.js", "-c", "c.json", "--port", "1003"], sources(env, files));
  t.equal(config.target, "flag.js", "positional beats LAMINAR_APP and the file");
  t.equal(config.port, 1003, "flag beats env and file");
  t.equal(config.workers, 6, "env beats file");
  t.equal(config.host, "file-host", "file beats default");
  t.equal(config.timeout, DEFAULT_SERVE_CONFIG.timeout, "default when nowhere else");
  const fromEnv = serve(["-c", "c.json"], sources(env, files));
  t.equal(fromEnv.target, "env.js", "LAMINAR_APP beats the file's target");
});

t.test("LAMINAR_CONFIG names the file; --config wins over it", async (t) => {
  const files = { "a.json": '{"port": 1}', "b.json": '{"port": 2}' };
  t.equal(serve(["app.js"], sources({ LAMINAR_CONFIG: "a.json" }, files)).port, 1);
  t.equal(serve(["app.js", "--config", "b.json"], sources({ LAMINAR_CONFIG: "a.json" }, files)).port, 2);
});

t.test("an empty environment variable counts as unset", async (t) => {
  t.equal(serve(["app.js"], sources({ LAMINAR_PORT: "" })).port, DEFAULT_SERVE_CONFIG.port);
});

t.test("LAMINAR_RELOAD accepts the usual booleans", async (t) => {
  t.equal(serve(["app.js"], sources({ LAMINAR_RELOAD: "0" })).reload, false);
  t.equal(serve(["app.js"], sources({ LAMINAR_RELOAD: "TRUE" })).reload, true);
  usageError(t, ["app.js"], /LAMINAR_RELOAD: "maybe" is not a boolean/, sources({ LAMINAR_RELOAD: "maybe" }));
});

t.test("--help", async (t) => {
  t.strictSame(resolveServeConfig(["--help"], sources()), { kind: "help" });
  t.strictSame(resolveServeConfig(["-h", "--port", "nonsense"], sources()), { kind: "help" }, "help wins over bad values");
});

t.test("usage errors name the setting and where it came from", async (t) => {
  usageError(t, ["app.js", "--workers", "two"], /--workers: "two" is not an integer/);
  usageError(t, ["app.js", "--workers", "1.5"], /--workers: "1.5" is not an integer/);
  usageError(t, ["app.js", "--workers", "0"], /--workers: "0" is below the minimum 1/);
  usageError(t, ["app.js", "--port", "70000"], /--port: "70000" is above the maximum 65535/);
  usageError(t, ["app.js", "--port", "0x10"], /--port: "0x10" is not an integer/);
  usageError(t, ["app.js", "--timeout", ""], /--timeout: "" is not a number/);
  usageError(t, ["app.js", "--server", "express"], /--server: "express" is not one of node, uws/);
  usageError(t, ["app.js", "--log-level", "loud"], /--log-level: "loud" is not one of/);
  usageError(t, ["app.js"], /LAMINAR_PORT: "http" is not an integer/, sources({ LAMINAR_PORT: "http" }));
  usageError(t, ["app.js", "-c", "c.json"], /config file c.json: "workers": true is not a number/, sources({}, { "c.json": '{"workers": true}' }));
});

t.test("keyfile and certfile go together", async (t) => {
  usageError(t, ["app.js", "--keyfile", "k.pem"], /--keyfile needs --certfile/);
  usageError(t, ["app.js", "--server", "uws", "-w", "2", "--port", "0"], /needs a fixed --port/);
  t.equal(serve(["app.js", "--server", "uws", "--port", "0"]).port, 0, "one uWS worker may take port 0");
  t.equal(serve(["app.js", "-w", "2", "--port", "0"]).port, 0, "node:http workers share the master's socket: port 0 is fine");
  usageError(t, ["app.js", "--certfile", "c.pem"], /--certfile needs --keyfile/);
  usageError(t, ["app.js"], /--keyfile needs --certfile/, sources({ LAMINAR_KEYFILE: "k.pem" }));
});

t.test("arguments", async (t) => {
  usageError(t, [], /no app given/);
  usageError(t, ["a.js", "b.js"], /expected one app, got 2/);
  usageError(t, ["app.js", "--bind", "x"], /Unknown option '--bind'/);
  usageError(t, ["app.js", "--port"], /argument missing/);
});

t.test("config file problems", async (t) => {
  usageError(t, ["app.js", "-c", "missing.json"], /config file missing.json: ENOENT/);
  usageError(t, ["app.js", "-c", "c.json"], /invalid JSON/, sources({}, { "c.json": "{port: 1}" }));
  usageError(t, ["app.js", "-c", "c.json"], /expected a JSON object/, sources({}, { "c.json": "[1]" }));
  usageError(t, ["app.js", "-c", "c.json"], /unknown setting "bind"/, sources({}, { "c.json": '{"bind": "x"}' }));
  usageError(t, ["app.js", "-c", "c.json"], /"host" must be a string, number or boolean/, sources({}, { "c.json": '{"host": null}' }));
  usageError(t, ["-c", "c.json"], /"target" must be a non-empty string/, sources({}, { "c.json": '{"target": 1}' }));
  usageError(t, ["app.js", "-c", "c.json"], /"server": 1 is not one of node, uws/, sources({}, { "c.json": '{"server": 1}' }));
});
