/**
 * What `--reload` watches: source directories, recursively, reporting each burst of changes to
 * source files as one list.
 *
 * Built on node's plain `fs.watch(dir)` (inotify on Linux), one watcher per directory, walking the
 * tree itself. Not on `fs.watch(dir, { recursive: true })`: on Linux, Node 20 emulates `recursive`
 * in JavaScript with one watcher per file *and* directory and no way to skip anything, so a project
 * root with `node_modules` costs tens of thousands of inotify watches and a synchronous walk of the
 * whole tree at start (node `lib/internal/fs/recursive_watch.js`); its earlier 20.x releases also
 * missed events while the asynchronous walk raced the watches (nodejs/node#48437), and later ones
 * could throw from a deleted file's stat (nodejs/node#52018). Walking ourselves we skip
 * `node_modules` and dot-directories before watching anything, watch directories only (a
 * directory's watch reports its files by name), and handle the known gaps of inotify-based watchers:
 *
 * - a directory created after start (`mkdir -p`, `tsc` emitting into a new folder) is watched as soon
 *   as its parent reports it, then read, so files written into it before its watch existed are
 *   reported too;
 * - a directory deleted (or renamed away) has its watchers closed; one replaced under the same name
 *   (`rm -rf dist && tsc`) is noticed by its inode and watched afresh;
 * - a watched root that disappears is polled for until it comes back, then watched again.
 *
 * A burst of changes (a `tsc` rebuild writes dozens of files, a `git checkout` hundreds) becomes one
 * `onChange` call: it fires once no event has arrived for `debounceMs`, or `maxWaitMs` after the
 * first event of the burst at the latest, so a file rewritten without pause cannot postpone a reload
 * forever (watchfiles, behind uvicorn's reload, groups the same way).
 *
 * Deliberately left out: symlinked directories are not followed (no cycles, no watching outside the
 * tree), glob patterns, and polling (network file systems that deliver no inotify events).
 *
 * @module
 */
import { lstatSync, readdirSync, statSync, watch, type FSWatcher, type Stats } from "node:fs";
import { basename, extname, join, resolve, sep } from "node:path";

/** The extensions watched when none are given. */
export const DEFAULT_SOURCE_EXTENSIONS: readonly string[] = Object.freeze([".js", ".mjs", ".cjs", ".ts", ".mts", ".cts", ".json"]);

/** Options of {@link watchSources}. */
export interface SourceWatcherOptions {
  /** Directories to watch recursively (relative ones from the working directory). Each must exist. */
  dirs: readonly string[];
  /**
   * Called once per burst with the distinct absolute paths of changed, created or deleted source
   * files, sorted. A watched directory that was deleted or moved away is listed by its own path.
   */
  onChange(files: string[]): void;
  /** Quiet time that ends a burst, in ms. Default 100. */
  debounceMs?: number;
  /** Longest a burst is held back after its first event, in ms (≥ debounceMs). Default 2000. */
  maxWaitMs?: number;
  /** File extensions that count as sources, with or without the dot. Default {@link DEFAULT_SOURCE_EXTENSIONS}. */
  extensions?: readonly string[];
  /**
   * Problems after the start: a directory that could not be watched (inotify limit, permissions),
   * an error from a watcher, an `onChange` that threw. Default: `process.emitWarning`.
   */
  onError?(error: Error): void;
}

/** A running watcher. */
export interface SourceWatcher {
  /** Stops watching; no `onChange` call happens after it, not even for a burst already gathered. */
  close(): Promise<void>;
}

/**
 * Starts watching. Throws at once when a directory does not exist or is not a directory, when an
 * option is invalid, or when the watches cannot be set up (e.g. the inotify limit).
 *
 * @example
 * const watcher = watchSources({ dirs: ["dist"], onChange: (files) => reloadWorkers(files) });
 * // on shutdown
 * await watcher.close();
 */
export function watchSources(options: SourceWatcherOptions): SourceWatcher {
  const tree = new SourceTree(checkOptions(options));
  tree.start();
  return { close: () => tree.close() };
}

/** Validated options. */
interface Settings {
  roots: string[];
  onChange: (files: string[]) => void;
  onError: (error: Error) => void;
  debounceMs: number;
  maxWaitMs: number;
  extensions: Set<string>;
}

const DEFAULT_DEBOUNCE_MS = 100;
const DEFAULT_MAX_WAIT_MS = 2_000;
/** How often a vanished root is looked for. */
const ROOT_POLL_MS = 250;

function checkOptions(options: SourceWatcherOptions): Settings {
  const { dirs, onChange } = options;
  if (!Array.isArray(dirs) || dirs.length === 0 || !dirs.every((dir) => typeof dir === "string" && dir !== "")) {
    throw new TypeError("watchSources: dirs must be a non-empty list of directory paths");
  }
  if (typeof onChange !== "function") throw new TypeError("watchSources: onChange must be a function");
  const debounceMs = options.debounceMs ?? DEFAULT_DEBOUNCE_MS;
  if (typeof debounceMs !== "number" || !Number.isFinite(debounceMs) || debounceMs < 0) {
    throw new RangeError(`watchSources: debounceMs must be a finite number ≥ 0, got ${String(debounceMs)}`);
  }
  const maxWaitMs = options.maxWaitMs ?? Math.max(DEFAULT_MAX_WAIT_MS, debounceMs);
  if (typeof maxWaitMs !== "number" || !Number.isFinite(maxWaitMs) || maxWaitMs < debounceMs) {
    throw new RangeError(`watchSources: maxWaitMs must be a finite number ≥ debounceMs (${debounceMs}), got ${String(maxWaitMs)}`);
  }
  const extensions = new Set<string>();
  for (const ext of options.extensions ?? DEFAULT_SOURCE_EXTENSIONS) {
    if (typeof ext !== "string" || ext.replace(/^\./, "") === "" || /[/\\]/.test(ext)) {
      throw new TypeError(`watchSources: invalid extension ${JSON.stringify(ext)}`);
    }
    extensions.add(ext.startsWith(".") ? ext : `.${ext}`);
  }
  const onError = options.onError ?? ((error: Error) => process.emitWarning(error));
  const roots = [...new Set(dirs.map((dir) => resolve(dir)))];
  return { roots, onChange, onError, debounceMs, maxWaitMs, extensions };
}

/** Directories never entered and files never reported: dependencies, VCS data, editor and tool state. */
function isIgnoredName(name: string): boolean {
  return name.startsWith(".") || name === "node_modules";
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/** One watched directory: its watcher, and the inode it was watched as (to notice a replacement). */
interface WatchedDir {
  watcher: FSWatcher;
  ino: number;
}

/** The watched trees, the burst being gathered, and its timers. */
class SourceTree {
  private readonly settings: Settings;
  private readonly dirs = new Map<string, WatchedDir>();
  private readonly pending = new Set<string>();
  /** Restarted (refresh) by every event of a burst. */
  private quietTimer: NodeJS.Timeout | undefined = undefined;
  /** Armed by the first event of a burst. */
  private maxTimer: NodeJS.Timeout | undefined = undefined;
  /** Roots that vanished, with the poll waiting for each to come back. */
  private readonly missingRoots = new Map<string, NodeJS.Timeout>();
  private closed = false;

  constructor(settings: Settings) {
    this.settings = settings;
  }

  start(): void {
    try {
      for (const root of this.settings.roots) {
        let stats: Stats;
        try {
          stats = statSync(root);
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          throw new Error(`watchSources: cannot watch ${root}: ${code === "ENOENT" ? "no such directory" : (error as Error).message}`, { cause: error });
        }
        if (!stats.isDirectory()) throw new Error(`watchSources: cannot watch ${root}: not a directory`);
        this.addTree(root, null);
      }
    } catch (error) {
      void this.close();
      if (error instanceof Error && error.message.startsWith("watchSources:")) throw error;
      throw new Error(`watchSources: could not set up the watches: ${(error as Error).message}`, { cause: error });
    }
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    clearTimeout(this.quietTimer);
    clearTimeout(this.maxTimer);
    this.quietTimer = this.maxTimer = undefined;
    for (const poll of this.missingRoots.values()) clearInterval(poll);
    this.missingRoots.clear();
    for (const { watcher } of this.dirs.values()) watcher.close();
    this.dirs.clear();
    this.pending.clear();
    return Promise.resolve();
  }

  private isSource(name: string): boolean {
    return this.settings.extensions.has(extname(name));
  }

  /**
   * Watches `dir` and everything below it (the watch first, then the listing, so nothing created in
   * between is missed). Source files found go to `found` when the directory is new since the start.
   * Throws when a watch cannot be set up; a directory that vanished meanwhile is skipped.
   */
  private addTree(dir: string, found: string[] | null): void {
    if (this.dirs.has(dir)) return;
    const stats = lstatOrUndefined(dir);
    if (stats === undefined || !stats.isDirectory()) return;
    // The listeners check that their entry is still the current one for `dir`: events a replaced
    // directory's old watch had already queued must not act on its successor.
    const entry = { ino: stats.ino } as WatchedDir;
    try {
      entry.watcher = watch(dir, { persistent: true }, (event, name) => {
        if (this.dirs.get(dir) === entry) this.onEvent(dir, event, name);
      });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return;
      throw error;
    }
    entry.watcher.on("error", (error: Error) => {
      if (this.dirs.get(dir) === entry) this.onWatcherError(dir, error);
    });
    this.dirs.set(dir, entry);
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") {
        this.unwatchTree(dir);
        return;
      }
      throw error;
    }
    for (const entry of entries) {
      if (isIgnoredName(entry.name)) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) this.addTree(path, found);
      else if (found !== null && this.isSource(entry.name)) found.push(path);
    }
  }

  /** A directory appeared after the start: watch it, and report the sources already in it. */
  private addNewTree(dir: string): void {
    const found: string[] = [];
    try {
      this.addTree(dir, found);
    } catch (error) {
      this.settings.onError(new Error(`watchSources: cannot watch ${dir}: ${(error as Error).message}`, { cause: error }));
    }
    for (const file of found) this.changed(file);
  }

  /** Stops watching `dir` and every directory below it. */
  private unwatchTree(dir: string): void {
    const prefix = dir + sep;
    for (const [path, { watcher }] of this.dirs) {
      if (path === dir || path.startsWith(prefix)) {
        watcher.close();
        this.dirs.delete(path);
      }
    }
  }

  private onEvent(dir: string, event: string, filename: string | Buffer | null): void {
    if (this.closed) return;
    if (filename === null) {
      // No name (inotify queue overflow): look for directories we do not know yet.
      this.rescan(dir);
      return;
    }
    const name = filename.toString();
    if (isIgnoredName(name)) return;
    const path = join(dir, name);
    if (event === "change" && !this.dirs.has(path)) {
      if (this.isSource(name)) this.changed(path);
      return;
    }
    // "rename": created, deleted, or moved in or out.
    const stats = lstatOrUndefined(path);
    if (stats === undefined) {
      if (name === basename(dir)) {
        // inotify reports the watched directory's own removal or move under its own name (a child
        // of that name that went away looks the same; treating it so costs one re-watch). The inode
        // cannot tell: `rm -rf dist && mkdir dist` often gets the old number back.
        this.directoryReplaced(dir);
      } else if (this.dirs.has(path)) {
        this.directoryRemoved(path);
      } else if (this.isSource(name)) {
        this.changed(path);
      }
      return;
    }
    const known = this.dirs.get(path);
    if (stats.isDirectory()) {
      if (known !== undefined && known.ino === stats.ino) return;
      // New, or replaced under the same name (its old watch follows the deleted inode).
      if (known !== undefined) this.unwatchTree(path);
      this.addNewTree(path);
      return;
    }
    if (known !== undefined) this.unwatchTree(path); // a directory replaced by a file
    if (this.isSource(name)) this.changed(path);
  }

  /** `dir`'s watch no longer follows what is at that path: watch what is there now, if anything. */
  private directoryReplaced(dir: string): void {
    this.unwatchTree(dir);
    const stats = lstatOrUndefined(dir);
    if (stats !== undefined && stats.isDirectory()) this.addNewTree(dir);
    else this.directoryRemoved(dir);
  }

  /** Whether `dir` no longer is the directory we watch under that name. */
  private isGone(dir: string): boolean {
    const stats = lstatOrUndefined(dir);
    return stats === undefined || !stats.isDirectory() || stats.ino !== this.dirs.get(dir)?.ino;
  }

  /** Without a file name, compare the listing with what is watched: new subdirectories get watched. */
  private rescan(dir: string): void {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (!isIgnoredName(entry.name) && entry.isDirectory()) this.addNewTree(join(dir, entry.name));
    }
  }

  /**
   * `dir` went away: stop watching it, and report it by its own path (moved away whole, its files
   * send no events of their own, and a reload is due all the same). A root is looked for until it
   * comes back.
   */
  private directoryRemoved(dir: string): void {
    this.unwatchTree(dir);
    this.changed(dir);
    if (!this.settings.roots.includes(dir) || this.missingRoots.has(dir)) return;
    const poll = setInterval(() => {
      const stats = lstatOrUndefined(dir);
      if (stats === undefined || !stats.isDirectory()) return;
      clearInterval(poll);
      this.missingRoots.delete(dir);
      this.addNewTree(dir);
    }, ROOT_POLL_MS);
    this.missingRoots.set(dir, poll);
    // A root replaced between the removal and this check is already back.
    const stats = lstatOrUndefined(dir);
    if (stats !== undefined && stats.isDirectory()) {
      clearInterval(poll);
      this.missingRoots.delete(dir);
      this.addNewTree(dir);
    }
  }

  /** node closed the watcher after an error. A directory that is gone is just removed; anything else is reported. */
  private onWatcherError(dir: string, error: Error): void {
    if (this.closed) return;
    if (this.dirs.has(dir) && this.isGone(dir)) {
      this.directoryRemoved(dir);
      return;
    }
    this.dirs.delete(dir);
    this.settings.onError(new Error(`watchSources: stopped watching ${dir}: ${error.message}`, { cause: error }));
  }

  /** Adds a path to the burst and (re)starts its timers. */
  private changed(path: string): void {
    if (this.closed) return;
    this.pending.add(path);
    if (this.quietTimer === undefined) this.quietTimer = setTimeout(flush, this.settings.debounceMs, this);
    else this.quietTimer.refresh();
    this.maxTimer ??= setTimeout(flush, this.settings.maxWaitMs, this);
  }

  /** The burst is over: one `onChange` with its distinct paths. */
  flush(): void {
    clearTimeout(this.quietTimer);
    clearTimeout(this.maxTimer);
    this.quietTimer = this.maxTimer = undefined;
    if (this.closed || this.pending.size === 0) return;
    const files = [...this.pending].sort();
    this.pending.clear();
    try {
      this.settings.onChange(files);
    } catch (error) {
      this.settings.onError(error instanceof Error ? error : new Error(String(error)));
    }
  }
}

function flush(tree: SourceTree): void {
  tree.flush();
}
