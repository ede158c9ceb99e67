/**
 * The `--reload` source watcher on a real temporary directory: one call per burst with every changed
 * path, ignored names and extensions, directories created, deleted and replaced after the start, a
 * vanished root, close().
 *
 * A non-event is asserted without sleeping: the ignored file is written first, then a watched one,
 * and the calls up to the watched one must list only it. Waits are bounded (see `waitFor`).
 */
import t, { type Test } from "tap";
import { mkdirSync, mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { watchSources, type SourceWatcher, type SourceWatcherOptions } from "../../../lib/supervisor/source-watcher.js";

/** Guard against a watcher that never calls: fail instead of hanging. Not a timing assertion. */
const GUARD_MS = 10_000;

function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), "laminar-watch-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function write(path: string, content = String(Math.random())): void {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, content);
}

/** Starts a watcher that records every call; `waitFor` resolves once a condition on the calls holds. */
function start(t: Test, options: Omit<SourceWatcherOptions, "onChange">) {
  const batches: string[][] = [];
  const errors: Error[] = [];
  let wake: Array<() => void> = [];
  const watcher: SourceWatcher = watchSources({
    onError: (error) => errors.push(error),
    ...options,
    onChange(files) {
      batches.push(files);
      for (const resolve of wake) resolve();
      wake = [];
    },
  });
  t.teardown(() => watcher.close());
  const seen = (): Set<string> => new Set(batches.flat());
  async function waitFor(what: string, condition: () => boolean): Promise<void> {
    const deadline = Date.now() + GUARD_MS;
    while (!condition()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no onChange for ${what} within ${GUARD_MS} ms; calls so far: ${JSON.stringify(batches)}`);
      await new Promise<void>((resolve) => {
        const guard = setTimeout(resolve, left);
        wake.push(() => {
          clearTimeout(guard);
          resolve();
        });
      });
    }
  }
  const waitForPath = (path: string): Promise<void> => waitFor(path, () => seen().has(path));
  return { watcher, batches, errors, seen, waitFor, waitForPath };
}

t.test("a change to a .js file fires once, with its path", async (t) => {
  const dir = tempDir(t);
  const a = join(dir, "a.js");
  const b = join(dir, "b.js");
  write(a, "1");
  write(b, "1");
  const w = start(t, { dirs: [dir] });
  write(a, "2");
  await w.waitFor("a.js", () => w.batches.length >= 1);
  t.strictSame(w.batches, [[a]]);
  // Any late second call for a.js would come before (or along with) the sentinel's.
  write(b, "2");
  await w.waitForPath(b);
  t.strictSame(w.batches, [[a], [b]]);
  t.strictSame(w.errors, []);
});

t.test("a burst of 20 writes is coalesced: every path reported, each once per call", async (t) => {
  const dir = tempDir(t);
  const w = start(t, { dirs: [dir] });
  const files = Array.from({ length: 20 }, (_, i) => join(dir, i % 2 === 0 ? "src" : "lib", `file${i}.ts`));
  for (const file of files) write(file, "first");
  for (const file of files.slice(0, 5)) write(file, "second");
  await w.waitFor("all 20 files", () => files.every((file) => w.seen().has(file)));
  t.ok(w.batches.length >= 1 && w.batches.length <= 3, `a small number of calls (${w.batches.length})`);
  for (const batch of w.batches) {
    t.equal(new Set(batch).size, batch.length, "no path twice in one call");
    t.strictSame(batch, [...batch].sort(), "sorted");
  }
  t.strictSame([...w.seen()].sort(), [...files].sort(), "exactly the written files");
});

t.test("ignored: other extensions, node_modules, dot-directories and dotfiles (existing or created later)", async (t) => {
  const dir = tempDir(t);
  write(join(dir, "node_modules", "pkg", "index.js"), "1");
  write(join(dir, ".git", "hooks", "pre-commit.js"), "1");
  mkdirSync(join(dir, "src"));
  const w = start(t, { dirs: [dir] });
  write(join(dir, "notes.txt"));
  write(join(dir, "src", "style.css"));
  write(join(dir, "node_modules", "pkg", "index.js"), "2");
  write(join(dir, "node_modules", "new-pkg", "main.js"));
  write(join(dir, ".git", "hooks", "pre-commit.js"), "2");
  write(join(dir, ".hidden.js"));
  write(join(dir, "src", ".eslintrc.json"));
  write(join(dir, "src", "node_modules", "local", "x.ts"));
  write(join(dir, "src", ".cache", "y.ts"));
  write(join(dir, "src", "file.js~"));
  const watched = join(dir, "src", "watched.js");
  write(watched);
  await w.waitForPath(watched);
  t.strictSame(w.seen(), new Set([watched]), "only the watched file, in every call so far");
});

t.test("extensions can be chosen, with or without the dot", async (t) => {
  const dir = tempDir(t);
  const w = start(t, { dirs: [dir], extensions: ["py", ".toml"] });
  write(join(dir, "app.js"));
  write(join(dir, "pyproject.toml"));
  const py = join(dir, "main.py");
  write(py);
  await w.waitForPath(py);
  t.strictSame(w.seen(), new Set([join(dir, "pyproject.toml"), py]));
});

t.test("a file in a subdirectory created after the start fires, and the new directory stays watched", async (t) => {
  const dir = tempDir(t);
  const w = start(t, { dirs: [dir] });
  const deep = join(dir, "new", "deeper", "still", "mod.ts");
  write(deep); // mkdir -p then write, at once: the file exists before the watches on new/… do
  await w.waitForPath(deep);
  t.strictSame(w.seen(), new Set([deep]));
  const calls = w.batches.length;
  write(deep, "changed");
  await w.waitFor("the second write", () => w.batches.length > calls);
  t.strictSame(w.batches.at(-1), [deep], "reported by the new directory's own watch");
  t.strictSame(w.errors, []);
});

t.test("deleted and renamed files fire; deleted, recreated and replaced directories are handled", async (t) => {
  const dir = tempDir(t);
  const a = join(dir, "a.js");
  const b = join(dir, "sub", "b.js");
  const c = join(dir, "gone", "c.js");
  const e = join(dir, "dist", "e.js");
  for (const file of [a, b, c, e]) write(file);
  const w = start(t, { dirs: [dir] });

  unlinkSync(a);
  await w.waitForPath(a);

  const b2 = join(dir, "sub", "b2.js");
  renameSync(b, b2);
  await w.waitFor("the rename", () => w.seen().has(b) && w.seen().has(b2));

  rmSync(join(dir, "gone"), { recursive: true });
  await w.waitFor("the deleted directory", () => w.seen().has(c) && w.seen().has(join(dir, "gone")));
  const after = join(dir, "after.js");
  write(after);
  await w.waitForPath(after);

  const back = join(dir, "gone", "back.ts");
  write(back);
  await w.waitForPath(back);

  // `rm -rf dist && tsc`: the same name, a new directory (inode) that must be watched afresh.
  rmSync(join(dir, "dist"), { recursive: true });
  const e2 = join(dir, "dist", "e2.js");
  write(e2);
  await w.waitForPath(e2);
  const calls = w.batches.length;
  write(e2, "rebuilt");
  await w.waitFor("a write into the replaced directory", () => w.batches.length > calls && w.batches.at(-1)!.includes(e2));
  t.strictSame(w.errors, []);
});

t.test("a directory moved out of the tree is reported, and nothing below it is watched any more", async (t) => {
  const parent = tempDir(t);
  const root = join(parent, "root");
  const pkg = join(root, "pkg");
  write(join(pkg, "deep", "deeper", "x.js"));
  const w = start(t, { dirs: [root] });
  const outside = join(parent, "outside");
  renameSync(pkg, outside);
  await w.waitForPath(pkg);
  // The inotify watches follow the moved inodes: writes there must not be reported under the old paths.
  write(join(outside, "deep", "x.js"), "moved");
  write(join(outside, "deep", "deeper", "x.js"), "moved");
  const sentinel = join(root, "sentinel.js");
  write(sentinel);
  await w.waitForPath(sentinel);
  t.strictSame(w.seen(), new Set([pkg, sentinel]));
});

t.test("a watched root that is removed and recreated is watched again", async (t) => {
  const parent = tempDir(t);
  const root = join(parent, "dist");
  mkdirSync(root);
  const w = start(t, { dirs: [root] });
  rmSync(root, { recursive: true });
  const file = join(root, "index.js");
  write(file);
  await w.waitForPath(file);
  const calls = w.batches.length;
  write(file, "again");
  await w.waitFor("a write into the recreated root", () => w.batches.length > calls);
  t.strictSame(w.batches.at(-1), [file]);
});

t.test("close() stops callbacks, drops a gathered burst, and leaves no watcher or timer behind", async (t) => {
  const count = (kind: string): number => process.getActiveResourcesInfo().filter((r) => r === kind).length;
  /** A closed watch handle leaves the active list a loop turn or two later: give it up to 100 turns. */
  const handlesSettle = async (expected: number): Promise<number> => {
    for (let turn = 0; turn < 100 && count("FSEventWrap") !== expected; turn++) await new Promise((resolve) => setImmediate(resolve));
    return count("FSEventWrap");
  };
  // Watches closed by earlier tests' teardowns may still be on their way out: wait until it is steady.
  let handlesAtStart = count("FSEventWrap");
  for (let turn = 0, steady = 0; turn < 100 && steady < 5; turn++) {
    await new Promise((resolve) => setImmediate(resolve));
    const now = count("FSEventWrap");
    steady = now === handlesAtStart ? steady + 1 : 0;
    handlesAtStart = now;
  }
  const dir = tempDir(t);
  mkdirSync(join(dir, "a", "b"), { recursive: true });
  // `closed` gathers slowly; `sentinel` on the same tree tells when the events have been delivered.
  const closed = start(t, { dirs: [dir], debounceMs: 60_000, maxWaitMs: 60_000 });
  const sentinel = start(t, { dirs: [dir], debounceMs: 20 });
  t.equal(count("FSEventWrap"), handlesAtStart + 6, "one watch per directory, for each watcher");
  const first = join(dir, "a", "b", "first.js");
  write(first);
  await sentinel.waitForPath(first);
  const timersBefore = count("Timeout");
  await closed.watcher.close();
  t.equal(count("Timeout"), timersBefore - 2, "the gathered burst's timers were cleared");
  const second = join(dir, "second.js");
  write(second);
  await sentinel.waitForPath(second);
  t.equal(await handlesSettle(handlesAtStart + 3), handlesAtStart + 3, "the closed watcher's watches are gone");
  t.strictSame(closed.batches, [], "no call after close");
  await closed.watcher.close(); // twice is fine
  await sentinel.watcher.close();
  t.equal(await handlesSettle(handlesAtStart), handlesAtStart);
});

t.test("an onChange that throws is reported and the watcher goes on", async (t) => {
  const dir = tempDir(t);
  const errors: Error[] = [];
  const calls: string[][] = [];
  let wake: () => void = () => {};
  const watcher = watchSources({
    dirs: [dir],
    onError: (error) => errors.push(error),
    onChange(files) {
      calls.push(files);
      wake();
      if (calls.length === 1) throw new Error("reload failed");
    },
  });
  t.teardown(() => watcher.close());
  const until = (n: number) => new Promise<void>((resolve) => (wake = () => calls.length >= n && resolve()));
  const first = until(1);
  write(join(dir, "one.js"));
  await first;
  const second = until(2);
  write(join(dir, "two.js"));
  await second;
  t.strictSame(calls, [[join(dir, "one.js")], [join(dir, "two.js")]]);
  t.equal(errors.length, 1);
  t.equal(errors[0]!.message, "reload failed");
});

t.test("a directory that is missing or not a directory is a clear error at start", async (t) => {
  const dir = tempDir(t);
  write(join(dir, "file.js"));
  const missing = join(dir, "nope");
  t.throws(() => watchSources({ dirs: [missing], onChange() {} }), { message: `watchSources: cannot watch ${missing}: no such directory` });
  t.throws(() => watchSources({ dirs: [dir, missing], onChange() {} }), { message: /no such directory/ }, "even after a valid one");
  t.throws(() => watchSources({ dirs: [join(dir, "file.js")], onChange() {} }), { message: /file\.js: not a directory/ });
});

t.test("invalid options are refused", async (t) => {
  const dir = tempDir(t);
  const onChange = (): void => {};
  const bad: Array<[string, unknown]> = [
    ["no dirs", { dirs: [], onChange }],
    ["dirs as a string", { dirs: dir, onChange }],
    ["an empty dir name", { dirs: [""], onChange }],
    ["no onChange", { dirs: [dir] }],
    ["negative debounce", { dirs: [dir], onChange, debounceMs: -1 }],
    ["NaN debounce", { dirs: [dir], onChange, debounceMs: Number.NaN }],
    ["maxWait below debounce", { dirs: [dir], onChange, debounceMs: 500, maxWaitMs: 100 }],
    ["infinite maxWait", { dirs: [dir], onChange, maxWaitMs: Number.POSITIVE_INFINITY }],
    ["empty extension", { dirs: [dir], onChange, extensions: [""] }],
    ["a bare dot", { dirs: [dir], onChange, extensions: ["."] }],
    ["a path as extension", { dirs: [dir], onChange, extensions: ["a/b"] }],
  ];
  for (const [label, options] of bad) t.throws(() => watchSources(options as SourceWatcherOptions), label);
});
