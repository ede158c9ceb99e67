/**
 * examples/deploy end to end: `run.sh` renders the nginx template and starts `laminar serve
 * --workers 2` (the real supervisor and workers, compiled) with nginx in front, TLS terminated by
 * nginx with a certificate made here. The test client connects from 127.0.0.2 and nginx (like the
 * app's trusted list) is 127.0.0.1, so the two addresses cannot be confused: the app must see
 * 127.0.0.2 and https through nginx, and must not believe the same headers sent to it directly.
 *
 * Skipped with a message where nginx or openssl is missing. The master forks compiled JavaScript,
 * so `t.before` compiles what it needs into node_modules/.cache (as the supervisor's master test).
 */
import t from "tap";
import { execFile, spawn } from "node:child_process";
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Agent, request } from "undici";
import { WebSocket } from "ws";
import { makeTestCertificate, type TestCertificate } from "../../fixtures/test-certificate.js";

const root = resolve(fileURLToPath(new URL("../../../", import.meta.url)));
const runScript = join(root, "examples/deploy/run.sh");

/** The nginx binary, or why there is none. */
function findNginx(): string | { missing: string } {
  for (const dir of (process.env.PATH ?? "").split(":").concat(["/usr/sbin", "/usr/local/sbin", "/usr/local/nginx/sbin"])) {
    const candidate = join(dir, "nginx");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return { missing: "nginx is not installed (apt-get install nginx): the deploy example cannot run" };
}


/** A port free a moment ago (cluster workers and nginx need named ports). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((done) => probe.listen({ host: "127.0.0.1", port: 0 }, done));
  const { port } = probe.address() as { port: number };
  await new Promise((done) => probe.close(done));
  return port;
}

/** Whether a process is still there (signal 0 checks without signalling). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const nginx = findNginx();
const material = makeTestCertificate(t.testdir());
const skip = typeof nginx !== "string" ? nginx.missing : typeof material === "string" ? material : false;

t.test("laminar behind nginx (examples/deploy/run.sh)", { skip }, async (t) => {
  const { keyFile: key, certFile: cert, cert: ca } = material as TestCertificate;

  // Compile the CLI, the worker entry and the fixture app (emit only, noCheck: `npm test` type-checks anyway).
  const cacheDir = join(root, "node_modules", ".cache");
  mkdirSync(cacheDir, { recursive: true });
  const buildDir = mkdtempSync(join(cacheDir, "laminar-deploy-test-"));
  t.teardown(() => rmSync(buildDir, { recursive: true, force: true }));
  const files = ["lib/cli/bin.ts", "lib/supervisor/worker-main.ts", "test/fixtures/deploy/echo-app.ts"];
  writeFileSync(
    join(buildDir, "tsconfig.json"),
    JSON.stringify({
      extends: relative(buildDir, join(root, "tsconfig.json")),
      include: [],
      files: files.map((file) => relative(buildDir, join(root, file))),
      compilerOptions: { outDir: "out", rootDir: relative(buildDir, root), noCheck: true, declaration: false, sourceMap: false },
    }),
  );
  const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
  await new Promise<void>((done, fail) =>
    execFile(process.execPath, [tsc, "-p", join(buildDir, "tsconfig.json")], { timeout: 60_000 }, (error, stdout) =>
      error === null ? done() : fail(new Error(`tsc failed: ${stdout}`)),
    ),
  );
  const out = join(buildDir, "out");

  // Outside the repository: as root, nginx's unprivileged workers must reach their temp directories here.
  const runDir = mkdtempSync(join(tmpdir(), "laminar-deploy-test-"));
  t.teardown(() => rmSync(runDir, { recursive: true, force: true }));
  const [appPort, httpsPort, httpPort] = [await freePort(), await freePort(), await freePort()];
  const child = spawn("bash", [runScript, join(out, "test/fixtures/deploy/echo-app.js")], {
    cwd: root,
    env: {
      ...process.env,
      NGINX_BIN: nginx as string,
      LAMINAR: `${process.execPath} ${join(out, "lib/cli/bin.js")}`,
      RUN_DIR: runDir,
      APP_PORT: String(appPort),
      HTTPS_PORT: String(httpsPort),
      HTTP_PORT: String(httpPort),
      WORKERS: "2",
      CERT: cert,
      KEY: key,
      LAMINAR_LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
  let running = true;
  void exited.then(() => (running = false));
  t.teardown(async () => {
    // run.sh stops nginx and the laminar master (which drains its workers); bounded, then by force.
    if (running) child.kill("SIGTERM");
    const stopped = await Promise.race([exited.then(() => true), new Promise<false>((done) => setTimeout(() => done(false), 20_000).unref())]);
    if (!stopped) child.kill("SIGKILL");
    for (const name of ["nginx.pid", "laminar.pid"]) {
      const file = join(runDir, name);
      const pid = existsSync(file) ? Number(readFileSync(file, "utf8").trim()) : NaN;
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) process.kill(pid, "SIGKILL");
    }
  });

  // The test's client: CA-verified TLS, from 127.0.0.2 (Linux answers all of 127/8 on loopback).
  const client = new Agent({ localAddress: "127.0.0.2", connect: { ca } });
  t.teardown(() => client.close());
  const proxied = `https://127.0.0.1:${httpsPort}`;

  // Bounded wait until nginx reaches a worker (502 while the workers boot).
  let ready = false;
  for (let attempt = 0; attempt < 300 && running && !ready; attempt++) {
    try {
      const response = await request(`${proxied}/who`, { dispatcher: client, headersTimeout: 2_000, bodyTimeout: 2_000 });
      await response.body.dump();
      ready = response.statusCode === 200;
    } catch {
      // nginx not listening yet
    }
    if (!ready) await new Promise((done) => setTimeout(done, 50));
  }
  if (!ready) {
    t.fail("nginx never answered from a laminar worker", { output, errorLog: existsSync(join(runDir, "error.log")) ? readFileSync(join(runDir, "error.log"), "utf8") : "" });
    return;
  }

  const who = async (url: string, options: { headers?: Record<string, string>; dispatcher?: Agent } = {}) => {
    const response = await request(url, { dispatcher: options.dispatcher ?? client, headers: options.headers });
    t.equal(response.statusCode, 200, url);
    return (await response.body.json()) as { client: [string, number]; scheme: string; pid: number };
  };

  const through = await who(`${proxied}/who`);
  t.same(through.client, ["127.0.0.2", 0], "the app sees the client's address, not nginx's");
  t.equal(through.scheme, "https", "and the scheme the client used with nginx");

  const forged = await who(`${proxied}/who`, { headers: { "x-forwarded-for": "6.6.6.6", "x-forwarded-proto": "http" } });
  t.same(forged.client, ["127.0.0.2", 0], "a client's own X-Forwarded-For sits left of the address nginx appends: not believed");
  t.equal(forged.scheme, "https", "nginx replaces X-Forwarded-Proto");

  // Straight to the app, past nginx, from an address outside --forwarded-allow-ips.
  const direct = new Agent({ localAddress: "127.0.0.2" });
  t.teardown(() => direct.close());
  const bypass = await who(`http://127.0.0.1:${appPort}/who`, { dispatcher: direct, headers: { "x-forwarded-for": "6.6.6.6", "x-forwarded-proto": "https" } });
  t.equal(bypass.client[0], "127.0.0.2", "direct: the forged X-Forwarded-For is ignored");
  t.equal(bypass.scheme, "http", "direct: the forged X-Forwarded-Proto is ignored");

  const staticFile = await request(`${proxied}/static/hello.txt`, { dispatcher: client });
  t.equal(staticFile.statusCode, 200);
  t.equal(await staticFile.body.text(), readFileSync(join(root, "examples/deploy/static/hello.txt"), "utf8"), "the file's bytes");
  t.ok(staticFile.headers.etag !== undefined && staticFile.headers["last-modified"] !== undefined, "with nginx's static-file validators");
  const notInApp = await request(`http://127.0.0.1:${appPort}/static/hello.txt`, { dispatcher: direct });
  t.equal(notInApp.statusCode, 404, "the app has no such route: nginx served it");
  await notInApp.body.dump();

  const redirect = await request(`http://127.0.0.1:${httpPort}/who?x=1`, { dispatcher: direct });
  t.equal(redirect.statusCode, 301, "plain HTTP is redirected");
  t.equal(redirect.headers.location, `https://127.0.0.1:${httpsPort}/who?x=1`);
  await redirect.body.dump();

  const ws = new WebSocket(`wss://127.0.0.1:${httpsPort}/ws`, { ca, localAddress: "127.0.0.2" });
  const messages: string[] = [];
  const done = new Promise<void>((resolveDone, rejectDone) => {
    const timer = setTimeout(() => rejectDone(new Error(`WebSocket through nginx: no echo within 10 s (${JSON.stringify(messages)})`)), 10_000);
    ws.on("message", (data) => {
      messages.push(data.toString());
      if (messages.length === 1) ws.send("ping through nginx");
      if (messages.length === 2) {
        clearTimeout(timer);
        resolveDone();
      }
    });
    ws.on("error", (error) => (clearTimeout(timer), rejectDone(error)));
  });
  t.teardown(() => ws.terminate());
  await done;
  const hello = JSON.parse(messages[0]!) as { client: [string, number]; scheme: string };
  t.same(hello.client, ["127.0.0.2", 0], "a WebSocket through nginx: the client's address");
  t.equal(hello.scheme, "wss");
  t.equal(messages[1], "ping through nginx", "frames pass both ways");
  ws.close();

  t.ok(running, "run.sh still running", { output });
});
