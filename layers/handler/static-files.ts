/**
 * `staticFiles`: serves a directory, as an event-interface app to mount (Starlette's `StaticFiles`).
 *
 * @module
 */
import { realpathSync, statSync, type Stats } from "node:fs";
import { realpath, stat } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";
import type { App, HttpScope, Receive, Send } from "../adapter/events.js";
import { HttpException, RouteDefinitionError } from "../../lib/errors.js";
import { FileResponse, guessMediaType } from "./file-response.js";
import { Response } from "./responses.js";

/** Options of {@link staticFiles}. */
export interface StaticFilesOptions {
  /** The directory to serve; relative paths are resolved against the working directory. */
  directory: string;
  /**
   * HTML mode: a directory serves its `index.html`, `/dir` redirects (307) to `/dir/` first so
   * relative links work, and a miss serves the top-level `404.html` (status 404) when there is one.
   * Off (default): directories are 404, like any other miss.
   */
  html?: boolean;
  /** Serve symlinks that resolve outside `directory`. Default false: they are 404. */
  followSymlinks?: boolean;
  /** `Cache-Control: public, max-age=<maxAge>` (seconds, a non-negative integer) on served files. */
  maxAge?: number;
  /** Check at construction that `directory` exists and is a directory (throws if not). Default true. */
  checkDir?: boolean;
  /** Serve names starting with `.` (`.env`, `.git/config`, `.well-known/…`). Default false: 404. */
  dotfiles?: boolean;
}

/** A file found under the root: its resolved path and its stat. */
interface Found {
  real: string;
  stat: Stats;
}

const ALLOW: Array<[string, string]> = [["allow", "GET, HEAD"]];

/**
 * Returns an app that serves the files under `options.directory`; mount it with
 * `app.mount("/static", staticFiles({ directory: "public" }))`. The file itself goes out through
 * {@link FileResponse}, so ETag/Last-Modified, 304s, ranges and HEAD work as described there.
 *
 * Only GET and HEAD (others: 405 with `Allow: GET, HEAD`). Misses throw `HttpException(404)`,
 * rendered by the app's exception layer like the router's own 404s (so, used bare on a server
 * without `App`, a miss is a 500).
 *
 * How a request path becomes a file (`scope.path`, already percent-decoded by the server, relative
 * to the mount): it is split on `/` and empty segments dropped (so `//etc/passwd` is
 * `<root>/etc/passwd`). A path with `.` or `..` segments, a backslash or a NUL byte is a 404 outright:
 * no normalisation, so `%2e%2e`, `..%2f` and `..\` cannot climb out, whatever the client sends.
 * Segments starting with `.` are refused unless `dotfiles` (secrets live in dotfiles; nginx and
 * `serve-static` hide them too). The joined path must stay under the root, and its `realpath`
 * too unless `followSymlinks`, so a symlink pointing outside is a 404 (one inside is served). A
 * path ending in `/` that names a file is a 404 (`a.txt/` is not a directory).
 *
 * Left out: directory listings, precompressed `.gz`/`.br` siblings, and protection against a
 * directory entry swapped for a symlink between the check and the open (give the served tree
 * to a user the app cannot be tricked into writing as).
 *
 * @example
 * app.mount("/static", staticFiles({ directory: "public", maxAge: 3600 }));
 * app.mount("/", staticFiles({ directory: "site", html: true }));
 */
export function staticFiles(options: StaticFilesOptions): App {
  const directory = resolve(options.directory);
  const html = options.html === true;
  const follow = options.followSymlinks === true;
  const dotfiles = options.dotfiles === true;
  const maxAge = options.maxAge;
  if (maxAge !== undefined && !(Number.isInteger(maxAge) && maxAge >= 0)) {
    throw new RouteDefinitionError(`staticFiles(${JSON.stringify(options.directory)})`, "maxAge must be a non-negative integer (seconds)");
  }
  const cacheHeaders: Array<[string, string]> = maxAge === undefined ? [] : [["cache-control", `public, max-age=${maxAge}`]];
  // The root's real path: everything served must resolve under it (the directory itself may be a symlink).
  let root: string | undefined;
  if (options.checkDir !== false) {
    let ok = false;
    try {
      ok = statSync(directory).isDirectory();
    } catch {
      // reported below
    }
    if (!ok) throw new RouteDefinitionError(`staticFiles(${JSON.stringify(options.directory)})`, `${directory} is not a directory`);
    root = realpathSync(directory);
  }

  /** The root, resolved on first use when `checkDir` was off (it may be created after startup). */
  async function rootPath(): Promise<string | null> {
    if (root !== undefined) return root;
    try {
      if (!(await stat(directory)).isDirectory()) return null;
      root = await realpath(directory);
      return root;
    } catch {
      return null;
    }
  }

  async function lookup(base: string, segments: readonly string[]): Promise<Found | null> {
    const candidate = join(base, ...segments);
    if (!within(base, candidate)) return null;
    let real: string;
    try {
      real = await realpath(candidate);
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
    if (!follow) {
      if (!within(base, real)) return null;
      // A link inside the tree to a dotfile is as secret as the dotfile.
      if (!dotfiles && relative(base, real).split(sep).some((s) => s.startsWith("."))) return null;
    }
    try {
      return { real, stat: await stat(real) };
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  function serve(found: Found, name: string, scope: HttpScope, receive: Receive, send: Send, status = 200): Promise<void> {
    const headers = status === 200 ? cacheHeaders : [];
    // The type comes from the requested name (a link `app.js` to a hashed file is still JavaScript).
    const response = new FileResponse(found.real, { status, stat: found.stat, headers, mediaType: guessMediaType(name) });
    return response.sendTo(send, scope, receive);
  }

  async function miss(base: string | null, scope: HttpScope, receive: Receive, send: Send): Promise<void> {
    if (html && base !== null) {
      const page = await lookup(base, ["404.html"]);
      if (page?.stat.isFile() === true) return serve(page, "404.html", scope, receive, send, 404);
    }
    throw new HttpException(404);
  }

  return async (scope, receive, send) => {
    if (scope.type === "lifespan") return;
    if (scope.type !== "http") throw new HttpException(404);
    if (scope.method !== "GET" && scope.method !== "HEAD") throw new HttpException(405, undefined, ALLOW);
    const base = await rootPath();
    const segments = base === null ? null : safeSegments(scope.path, dotfiles);
    if (segments === null) return miss(base, scope, receive, send);
    const found = await lookup(base!, segments);
    // The mount hands `/static` and `/static/` both over as "/": there the wire path tells them apart.
    const slash = scope.path === "/" ? scope.rawPath.endsWith("/") : scope.path.endsWith("/");
    if (found !== null && found.stat.isFile() && !slash) return serve(found, segments[segments.length - 1]!, scope, receive, send);
    if (found !== null && found.stat.isDirectory() && html) {
      if (!slash) return redirectToSlash(scope, send);
      const index = await lookup(base!, [...segments, "index.html"]);
      if (index?.stat.isFile() === true) return serve(index, "index.html", scope, receive, send);
    }
    return miss(base, scope, receive, send);
  };
}

/**
 * The path's segments, or null when the path must not be served: `.`/`..` segments, backslashes
 * (a separator on Windows, and `/..\..` tricks elsewhere), NUL bytes, and dotfiles unless allowed.
 */
export function safeSegments(path: string, dotfiles = false): string[] | null {
  if (path.includes("\0") || path.includes("\\")) return null;
  const segments = path.split("/").filter((s) => s !== "");
  for (const segment of segments) {
    if (segment === "." || segment === "..") return null;
    if (!dotfiles && segment.startsWith(".")) return null;
  }
  return segments;
}

/**
 * 307 to the same wire path with a slash added (Starlette's HTML mode). The location is built
 * from `rawPath` (still percent-encoded) with its leading slashes collapsed to one, so a request
 * for `//evil.example/dir` cannot become a protocol-relative redirect off-site.
 */
function redirectToSlash(scope: HttpScope, send: Send): Promise<void> {
  const path = `/${scope.rawPath.replace(/^\/+/, "")}/`;
  const target = scope.queryString === "" ? path : `${path}?${scope.queryString}`;
  // Anything outside visible ASCII (latin-1 bytes a server passed through) is escaped: a header value must stay one line.
  const location = target.replace(/[^\x21-\x7e]/g, (c) => encodeURIComponent(c));
  return new Response("", { status: 307, headers: [["location", location]] }).sendTo(send);
}

function within(base: string, path: string): boolean {
  return path === base || path.startsWith(base.endsWith(sep) ? base : base + sep);
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR" || code === "ELOOP" || code === "ENAMETOOLONG";
}
