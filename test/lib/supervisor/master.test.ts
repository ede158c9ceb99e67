/**
 * The supervisor with real processes: a master (its own node process, so signals go to it and not
 * to tap) forking two workers that serve a fixture app on 127.0.0.1.
 *
 * The master forks compiled JavaScript (`worker-main.js`), and tap runs TypeScript without emitting
 * any, while `dist/` may be stale or absent (`npm test` only type-checks). So `t.before` compiles
 * just what the master and the fixtures import into a private directory under
 * node_modules/.cache (emit only, `noCheck`: a few seconds; `npm test` type-checks anyway), and
 * the test runs that.
 */
import t from "tap";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { request } from "undici";
import type { ServeConfig } from "../../../lib/supervisor/serve-config.js";
import { DEFAULT_SERVE_CONFIG, EXIT_APP_LOAD_ERROR } from "../../../lib/supervisor/serve-config.js";
import { loadUws } from "../../../layers/server/uws-load.js";

const root = resolve(fileURLToPath(new URL("../../../", import.meta.url)));
const cacheDir = join(root, "node_modules", ".cache");
mkdirSync(cacheDir, { recursive: true });
const buildDir = mkdtempSync(join(cacheDir, "laminar-supervisor-test-"));
const out = join(buildDir, "out");
t.teardown(() => rmSync(buildDir, { recursive: true, force: true }));

t.before(async () => {
  const files = ["lib/supervisor/master.ts", "lib/supervisor/worker-main.ts", "test/fixtures/supervisor/pid-app.ts", "test/fixtures/supervisor/throwing-app.ts"];
  const config = {
    extends: relative(buildDir, join(root, "tsconfig.json")),
    include: [],
    files: files.map((file) => relative(buildDir, join(root, file))),
    compilerOptions: { outDir: "out", rootDir: relative(buildDir, root), noCheck: true, declaration: false, sourceMap: false },
  };
  writeFileSync(join(buildDir, "tsconfig.json"), JSON.stringify(config));
  const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
  await new Promise<void>((done, fail) =>
    execFile(process.execPath, [tsc, "-p", join(buildDir, "tsconfig.json")], { timeout: 60_000 }, (error, stdout) =>
      error === null ? done() : fail(new Error(`tsc failed: ${stdout}`)),
    ),
  );
});

/** A port free a moment ago (cluster workers and uWS's SO_REUSEPORT need a named port, not 0). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((done) => probe.listen({ host: "127.0.0.1", port: 0 }, done));
  const { port } = probe.address() as { port: number };
  await new Promise((done) => probe.close(done));
  return port;
}

interface Master {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code; rejects if the master has not exited after `ms`. */
  exited(ms: number): Promise<number | null>;
}

function startMaster(config: Partial<ServeConfig> & { target: string }): Master {
  const full: ServeConfig = { ...DEFAULT_SERVE_CONFIG, workers: 2, port: 0, gracefulTimeout: 10, ...config };
  // A file, not `node -e`: cluster workers inherit the master's execArgv, and `-e` would run the script again in each.
  const launcher = join(buildDir, "launch-master.mjs");
  const masterUrl = new URL(`file://${join(out, "lib/supervisor/master.js")}`).href;
  writeFileSync(launcher, `import { runMaster } from ${JSON.stringify(masterUrl)};\nprocess.exitCode = await runMaster(JSON.parse(process.env.TEST_CONFIG));\n`);
  const child = spawn(process.execPath, [launcher], {
    cwd: root,
    env: { ...process.env, TEST_CONFIG: JSON.stringify(full) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let text = "";
  child.stdout?.on("data", (chunk: Buffer) => (text += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (text += chunk.toString()));
  const exit = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
  return {
    child,
    output: () => text,
    exited: (ms) =>
      Promise.race([exit, new Promise<never>((_, fail) => setTimeout(() => fail(new Error(`master still running after ${ms} ms:\n${text}`)), ms).unref())]),
  };
}

/** `GET /pid` on a fresh connection (so round-robin can pick any worker); undefined while nobody answers. */
async function askPid(port: number): Promise<number | undefined> {
  try {
    const response = await request(`http://127.0.0.1:${port}/pid`, { reset: true, headersTimeout: 2_000, bodyTimeout: 2_000 });
    return ((await response.body.json()) as { pid: number }).pid;
  } catch {
    return undefined;
  }
}

/**
 * Asks for pids until `done(seen)` holds; returns what was seen. Bounded: 400 attempts 25 ms apart
 * (the pause also when a worker answers, so a replacement still booting gets its second or so).
 */
async function pollPids(port: number, done: (seen: Set<number>) => boolean, attempts = 400): Promise<Set<number>> {
  const seen = new Set<number>();
  for (let i = 0; i < attempts && !done(seen); i++) {
    const pid = await askPid(port);
    if (pid !== undefined) seen.add(pid);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return seen;
}

let uwsAvailable = true;
try {
  loadUws();
} catch {
  uwsAvailable = false;
}

for (const server of ["node", "uws"] as const) {
t.test(`${server} workers: kill -9 one → a replacement serves; SIGTERM → the in-flight request completes, then exit 0`, { skip: server === "uws" && !uwsAvailable && "uWebSockets.js unavailable" }, async (t) => {
  const port = await freePort();
  const master = startMaster({ target: join(out, "test/fixtures/supervisor/pid-app.js"), port, server });
  t.teardown(() => void master.child.kill("SIGKILL"));

  const first = await pollPids(port, (seen) => seen.size >= 2);
  t.equal(first.size, 2, `both workers answer (${[...first].join(", ")})`);

  const [victim] = [...first] as [number];
  process.kill(victim, "SIGKILL");
  const after = await pollPids(port, (seen) => [...seen].some((pid) => !first.has(pid)));
  const replacement = [...after].find((pid) => !first.has(pid));
  t.ok(replacement !== undefined, `a new worker answers after ${victim} was killed`, { output: master.output() });
  t.notOk(after.has(victim), "the killed worker does not");

  // In flight: the first chunk has arrived, the rest comes 800 ms later.
  const response = await request(`http://127.0.0.1:${port}/stream?ms=800`, { reset: true });
  const body = response.body;
  const chunks: string[] = [];
  const iterator = body[Symbol.asyncIterator]();
  const firstChunk = await iterator.next();
  chunks.push(Buffer.from(firstChunk.value as Uint8Array).toString());
  const order: string[] = [];
  const exited = master.exited(30_000).then((code) => {
    order.push("master exited");
    return code;
  });
  master.child.kill("SIGTERM");
  for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) chunks.push(Buffer.from(next.value as Uint8Array).toString());
  order.push("response complete");
  t.match(chunks.join(""), /^start \d+\nend\n$/, "the request accepted before SIGTERM got its whole response");
  t.equal(await exited, 0, "the master exits 0");
  t.same(order, ["response complete", "master exited"]);
  t.match(master.output(), /graceful shutdown/);
});
}

t.test("an app that throws at import halts the master with a nonzero code and the error text", async (t) => {
  const port = await freePort();
  const master = startMaster({ target: join(out, "test/fixtures/supervisor/throwing-app.js"), port });
  t.teardown(() => void master.child.kill("SIGKILL"));
  const code = await master.exited(20_000);
  t.equal(code, EXIT_APP_LOAD_ERROR);
  t.match(master.output(), /fixture: boom at import/);
  t.match(master.output(), /could not load the app; halting/);
});
