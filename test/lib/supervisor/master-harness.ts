/**
 * Harness for the supervisor's real-process tests: compile what the master forks, start a master
 * as its own node process (so signals go to it and not to tap), and ask its workers who they are.
 *
 * The master forks compiled JavaScript (`worker-main.js`), and tap runs TypeScript without emitting
 * any, while `dist/` may be stale or absent (`npm test` only type-checks). So
 * {@link compileForMaster} compiles the master, the worker entry and the fixtures into
 * node_modules/.cache (emit only, `noCheck`: ten seconds or so; `npm test` type-checks anyway).
 * The output directory is named after a hash of the sources compiled, so the test files of one
 * run share one compilation, and an edited source gets a fresh one.
 *
 * @example
 * const build = compileForMaster(t, ["test/fixtures/supervisor/pid-app.ts"]);
 * t.test("…", async (t) => {
 *   const port = await freePort();
 *   const master = startMaster(t, build, { target: build.js("test/fixtures/supervisor/pid-app.ts"), port });
 *   const pids = await pollPids(port, (seen) => seen.size >= 2);
 * });
 */
import type { Test } from "tap";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { request } from "undici";
import type { ServeConfig } from "../../../lib/supervisor/serve-config.js";
import { DEFAULT_SERVE_CONFIG } from "../../../lib/supervisor/serve-config.js";
import { loadUws } from "../../../layers/server/uws-load.js";

/** The repository's root directory. */
export const root = resolve(fileURLToPath(new URL("../../../", import.meta.url)));

/** Where compilations are kept: under node_modules, so the compiled files resolve its packages. */
const cacheDir = join(root, "node_modules", ".cache");
/** Compilations unused for this long are removed when a test file next compiles or reuses one. */
const STALE_MS = 60 * 60 * 1000;
/** The fixtures every compilation includes, so the supervisor's test files share one. */
const FIXTURE_DIR = "test/fixtures/supervisor";
/** How long tsc may run. */
const TSC_TIMEOUT_MS = 90_000;

/** What the master and its workers run: the compiled files. */
export interface MasterBuild {
  /** The output directory (mirrors the repository's layout). */
  readonly out: string;
  /** The compiled path of a source, e.g. `js("test/fixtures/supervisor/pid-app.ts")`. */
  js(source: string): string;
  /** The script that runs the master (its config from the `TEST_CONFIG` environment variable). */
  readonly launcher: string;
}

/** Relative module specifiers in a source: `from "./x.js"`, `import "./x.js"`, `import("./x.js")`. */
const RELATIVE_IMPORT = /(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g;

/**
 * The entries and every source they import (relative imports, followed transitively), relative to
 * the root: what tsc will emit.
 */
function importGraph(entries: string[]): string[] {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file) || !existsSync(join(root, file))) return;
    seen.add(file);
    const text = readFileSync(join(root, file), "utf8");
    for (const [, specifier] of text.matchAll(RELATIVE_IMPORT)) {
      visit(relative(root, resolve(root, dirname(file), (specifier as string).replace(/\.js$/, ".ts"))));
    }
  };
  for (const entry of entries) visit(entry);
  return [...seen].sort();
}

/** A hash of the tsconfig and every source the entries import (so of what tsc emits for them). */
function buildKey(entries: string[]): string {
  const hash = createHash("sha256");
  hash.update(readFileSync(join(root, "tsconfig.json")));
  for (const file of importGraph(entries)) {
    hash.update(file);
    hash.update(readFileSync(join(root, file)));
  }
  return hash.digest("hex").slice(0, 16);
}

/**
 * Removes compilations (and abandoned temporary directories) not touched for {@link STALE_MS}:
 * each edit of a source makes a new one.
 */
function removeStale(keep: string): void {
  for (const name of readdirSync(cacheDir)) {
    if (!name.startsWith("laminar-master-") || name === keep) continue;
    const path = join(cacheDir, name);
    try {
      if (Date.now() - statSync(path).mtimeMs > STALE_MS) rmSync(path, { recursive: true, force: true });
    } catch {
      // Another test file removed it first.
    }
  }
}

/** Runs tsc (emit only) on `entries` into `dir/out`. */
async function compile(dir: string, entries: string[]): Promise<void> {
  const config = {
    extends: relative(dir, join(root, "tsconfig.json")),
    include: [],
    files: entries.map((file) => relative(dir, join(root, file))),
    compilerOptions: { outDir: "out", rootDir: relative(dir, root), noCheck: true, declaration: false, sourceMap: false, incremental: false },
  };
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(config));
  // A file, not `node -e`: cluster workers inherit the master's execArgv, and `-e` would run the script again in each.
  // A relative import: the directory is renamed once compiled.
  writeFileSync(join(dir, "launch-master.mjs"), `import { runMaster } from "./out/lib/supervisor/master.js";\nprocess.exitCode = await runMaster(JSON.parse(process.env.TEST_CONFIG));\n`);
  const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
  await new Promise<void>((done, fail) =>
    execFile(process.execPath, [tsc, "-p", join(dir, "tsconfig.json")], { timeout: TSC_TIMEOUT_MS }, (error, stdout) =>
      error === null ? done() : fail(new Error(`tsc failed: ${stdout}`)),
    ),
  );
}

/** Every `.ts` file directly in the supervisor's fixture directory, from the root. */
function supervisorFixtures(): string[] {
  const dir = join(root, FIXTURE_DIR);
  return existsSync(dir) ? readdirSync(dir).filter((name) => name.endsWith(".ts")).map((name) => `${FIXTURE_DIR}/${name}`) : [];
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Makes sure `dir` holds the compilation of `entries`: compiles it unless it is there. One test
 * file compiles (it holds `<dir>.lock`, an atomic mkdir) while the others starting at the same
 * time wait for it, rather than all running tsc at once on a small machine.
 */
async function ensureCompiled(dir: string, entries: string[]): Promise<void> {
  const lock = `${dir}.lock`;
  const launcher = join(dir, "launch-master.mjs");
  while (!existsSync(launcher)) {
    try {
      mkdirSync(lock);
    } catch {
      // Another test file is compiling; a lock older than tsc's own time limit is a crashed one's.
      try {
        if (Date.now() - statSync(lock).mtimeMs > 2 * TSC_TIMEOUT_MS) rmSync(lock, { recursive: true, force: true });
      } catch {
        // Released meanwhile.
      }
      await sleep(200);
      continue;
    }
    const scratch = mkdtempSync(join(cacheDir, "laminar-master-tmp-"));
    try {
      await compile(scratch, entries);
      // Compiled aside and renamed into place: readers never see a half-written directory.
      try {
        renameSync(scratch, dir);
      } catch (error) {
        // ENOTEMPTY: compiled meanwhile by a file that found our lock stale; theirs is as good.
        if (!existsSync(launcher)) throw error;
      }
    } finally {
      rmSync(scratch, { recursive: true, force: true });
      rmSync(lock, { recursive: true, force: true });
    }
  }
}

/**
 * Compiles the master, the worker entry, every fixture in test/fixtures/supervisor and `files`
 * (paths from the repository root) before the tests of `t` run (`t.before`), unless the same
 * sources were compiled already. Returns at once: the paths are known up front, the files exist
 * once the tests start.
 *
 * The compilation is keyed by the sources it emits (the entries and what they import), so the
 * supervisor's test files share one. When `t` had to wait for a compilation (a cold cache, tsc
 * taking half a minute on a busy machine), its timeout restarts afterwards: the compile does not
 * eat the tests' time.
 */
export function compileForMaster(t: Test, files: string[]): MasterBuild {
  const entries = [...new Set(["lib/supervisor/master.ts", "lib/supervisor/worker-main.ts", ...supervisorFixtures(), ...files])].sort();
  mkdirSync(cacheDir, { recursive: true });
  const name = `laminar-master-${buildKey(entries)}`;
  const dir = join(cacheDir, name);
  const out = join(dir, "out");
  // Touched now, so another test file's removeStale sees it in use (a file runs for a minute at most).
  if (existsSync(dir)) utimesSync(dir, new Date(), new Date());
  t.before(async () => {
    removeStale(name);
    if (existsSync(join(dir, "launch-master.mjs"))) return;
    await ensureCompiled(dir, entries);
    // TAP_TIMEOUT: the per-file timeout (seconds) the runner gave this file.
    t.setTimeout(Number(process.env.TAP_TIMEOUT ?? "60") * 1000);
  });
  return {
    out,
    js: (source) => join(out, source.replace(/\.ts$/, ".js")),
    launcher: join(dir, "launch-master.mjs"),
  };
}

/** A port free a moment ago (cluster workers and uWS's SO_REUSEPORT need a named port, not 0). */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((done) => probe.listen({ host: "127.0.0.1", port: 0 }, done));
  const { port } = probe.address() as { port: number };
  await new Promise((done) => probe.close(done));
  return port;
}

/** Whether uWebSockets.js loads here; the reason it does not, for a test's `skip`. */
export const uwsUnavailable: string | false = (() => {
  try {
    loadUws();
    return false;
  } catch {
    return "uWebSockets.js unavailable";
  }
})();

/** The connection servers a worker can run, to loop tests over. */
export const SERVERS = ["node", "uws"] as const;

/** A running master process. */
export interface Master {
  child: ChildProcess;
  /** Everything it (and its workers) wrote to stdout and stderr so far. */
  output(): string;
  /** The JSON log lines (pino) in {@link output}, parsed; other lines are left out. */
  logs(): Array<Record<string, unknown>>;
  /** Resolves with the first log line for which `match` holds; rejects after `ms` with the output so far. */
  waitForLog(match: (line: Record<string, unknown>) => boolean, ms: number): Promise<Record<string, unknown>>;
  /** Resolves with the exit code; rejects if the master has not exited after `ms`. */
  exited(ms: number): Promise<number | null>;
}

/** Extra settings for {@link startMaster}. */
export interface StartOptions {
  /** Added to the master's environment (the workers inherit it). */
  env?: Record<string, string>;
}

/**
 * Starts a master on `config` (defaults: 2 workers, graceful timeout 10 s, log level info); it is
 * SIGKILLed when `t` ends, if still running (its workers stop themselves when its IPC goes).
 */
export function startMaster(t: Test, build: MasterBuild, config: Partial<ServeConfig> & { target: string }, options: StartOptions = {}): Master {
  const full: ServeConfig = { ...DEFAULT_SERVE_CONFIG, workers: 2, port: 0, gracefulTimeout: 10, ...config };
  const child = spawn(process.execPath, [build.launcher], {
    cwd: root,
    env: { ...process.env, ...options.env, TEST_CONFIG: JSON.stringify(full) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  t.teardown(() => void child.kill("SIGKILL"));
  let text = "";
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer): void => {
    text += chunk.toString();
    for (const wake of waiters) wake();
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const exit = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
  const logs = (): Array<Record<string, unknown>> =>
    text.split("\n").flatMap((line) => {
      if (!line.startsWith("{")) return [];
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  return {
    child,
    output: () => text,
    logs,
    waitForLog: (match, ms) =>
      new Promise((done, fail) => {
        const check = (): void => {
          const line = logs().find(match);
          if (line === undefined) return;
          cleanup();
          done(line);
        };
        const timer = setTimeout(() => {
          cleanup();
          fail(new Error(`no such log line after ${ms} ms:\n${text}`));
        }, ms);
        const cleanup = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      }),
    exited: (ms) =>
      Promise.race([exit, new Promise<never>((_, fail) => setTimeout(() => fail(new Error(`master still running after ${ms} ms:\n${text}`)), ms).unref())]),
  };
}

/** `GET /pid` on a fresh connection (so the master or the kernel can pick any worker); undefined while nobody answers. */
export async function askPid(port: number): Promise<number | undefined> {
  try {
    const response = await request(`http://127.0.0.1:${port}/pid`, { reset: true, headersTimeout: 2_000, bodyTimeout: 2_000 });
    return ((await response.body.json()) as { pid: number }).pid;
  } catch {
    return undefined;
  }
}

/**
 * Asks for pids until `done(seen)` holds; returns what was seen. Bounded: `attempts` (default 400)
 * 25 ms apart (the pause also when a worker answers, so a replacement still booting gets its
 * second or so).
 */
export async function pollPids(port: number, done: (seen: Set<number>) => boolean, attempts = 400): Promise<Set<number>> {
  const seen = new Set<number>();
  for (let i = 0; i < attempts && !done(seen); i++) {
    const pid = await askPid(port);
    if (pid !== undefined) seen.add(pid);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return seen;
}
