/**
 * staticFiles mounted in an App, over real sockets on node:http and uWS: files, types, HEAD, 405,
 * Cache-Control, conditional and range requests through the mount, HTML mode (index.html, the
 * slash redirect, 404.html), and every traversal trick sent as raw request lines (HTTP clients
 * normalise `..` away before it reaches the wire): `..`, `%2e%2e`, `%2f`, backslashes, NUL
 * bytes, absolute paths, dotfiles, symlinks out of the tree. The uWS half is skipped where
 * uWebSockets.js cannot load.
 */
import t from "tap";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import { App } from "../../../lib/app.js";
import { silentLogger } from "../../../lib/logger.js";
import { loadUws } from "../../../layers/server/uws-load.js";
import { safeSegments, staticFiles } from "../../../layers/handler/static-files.js";
import { rawRequest, type RawResponse } from "../../conformance/server/raw-http.js";

let uwsMissing: string | false = false;
try {
  loadUws();
} catch (error) {
  uwsMissing = `uWebSockets.js unavailable: ${(error as Error).message}`;
}

const SECRET = "TOP SECRET";

/** A temp tree: `secret.txt` beside `public/`, which holds files, dotfiles and symlinks in and out. */
function makeTree(): { base: string; pub: string } {
  const base = realpathSync(mkdtempSync(join(tmpdir(), "laminar-static-")));
  const pub = join(base, "public");
  mkdirSync(pub);
  writeFileSync(join(base, "secret.txt"), SECRET);
  writeFileSync(join(pub, "hello.txt"), "hello");
  writeFileSync(join(pub, "style.css"), "body{}");
  writeFileSync(join(pub, "with space é.txt"), "spaced");
  writeFileSync(join(pub, "index.html"), "<h1>root</h1>");
  writeFileSync(join(pub, "404.html"), "<h1>custom 404</h1>");
  writeFileSync(join(pub, ".env"), `SECRET=${SECRET}`);
  mkdirSync(join(pub, ".well-known"));
  writeFileSync(join(pub, ".well-known", "x.txt"), "well known");
  mkdirSync(join(pub, "sub"));
  writeFileSync(join(pub, "sub", "index.html"), "<h1>sub</h1>");
  writeFileSync(join(pub, "sub", "page.txt"), "page");
  mkdirSync(join(pub, "noindex"));
  mkdirSync(join(pub, "evil.com"));
  writeFileSync(join(pub, "evil.com", "index.html"), "evil dir");
  symlinkSync(join(base, "secret.txt"), join(pub, "link-out.txt"));
  symlinkSync("..", join(pub, "dir-out"));
  symlinkSync("hello.txt", join(pub, "link-in.txt"));
  symlinkSync(".env", join(pub, "link-dot.txt"));
  return { base, pub };
}

t.test("safeSegments", async (t) => {
  t.same(safeSegments("/a/b.txt"), ["a", "b.txt"]);
  t.same(safeSegments("//a///b"), ["a", "b"], "empty segments dropped: an absolute path stays relative");
  t.same(safeSegments("/"), []);
  for (const bad of ["/../x", "/a/../../x", "/./x", "/a/..", "/..\\x", "/a\\b", "/x\0.png", "/.env", "/a/.git/config"]) {
    t.equal(safeSegments(bad), null, JSON.stringify(bad));
  }
  t.same(safeSegments("/.well-known/x", true), [".well-known", "x"], "dotfiles when allowed");
  t.equal(safeSegments("/../x", true), null, "but never ..");
  t.same(safeSegments("/a..b/c."), ["a..b", "c."], "dots inside names are fine");
});

t.test("construction checks", async (t) => {
  const { base, pub } = makeTree();
  t.teardown(() => rmSync(base, { recursive: true, force: true }));
  t.throws(() => staticFiles({ directory: join(base, "nope") }), { code: "LMR_ERR_ROUTE_DEFINITION" }, "missing directory");
  t.throws(() => staticFiles({ directory: join(pub, "hello.txt") }), { code: "LMR_ERR_ROUTE_DEFINITION" }, "a file is not a directory");
  t.throws(() => staticFiles({ directory: pub, maxAge: -1 }), { code: "LMR_ERR_ROUTE_DEFINITION" });
  t.throws(() => staticFiles({ directory: pub, maxAge: 1.5 }), { code: "LMR_ERR_ROUTE_DEFINITION" });
  t.doesNotThrow(() => staticFiles({ directory: join(base, "nope"), checkDir: false }), "checkDir: false defers it");
});

for (const server of ["node", "uws"] as const) {
  t.test(`staticFiles on ${server}`, { skip: server === "uws" ? uwsMissing : false }, async (t) => {
    const { base, pub } = makeTree();
    t.teardown(() => rmSync(base, { recursive: true, force: true }));
    const app = new App({ logger: silentLogger, server });
    app.mount("/static", staticFiles({ directory: pub, maxAge: 3600 }));
    app.mount("/site", staticFiles({ directory: pub, html: true }));
    app.mount("/follow", staticFiles({ directory: pub, followSymlinks: true }));
    app.mount("/dots", staticFiles({ directory: pub, dotfiles: true }));
    app.mount("/late", staticFiles({ directory: join(base, "late"), checkDir: false }));
    app.mount("/", staticFiles({ directory: pub, html: true }));
    const { url, port } = await app.listen({ host: "127.0.0.1", port: 0 });
    t.teardown(() => app.close({ timeout: 1_000 }));

    const get = async (path: string, headers: Record<string, string> = {}, method = "GET") => {
      const res = await request(`${url}${path}`, { method: method as "GET", headers });
      const body = await res.body.text();
      return { status: res.statusCode, headers: res.headers, body };
    };
    /** One request line exactly as given, over a raw socket. */
    const raw = async (target: string, method = "GET"): Promise<RawResponse> => {
      const result = await rawRequest(port, `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`, {
        responses: 1,
        head: method === "HEAD",
      });
      const response = result.responses[0];
      if (response === undefined) throw new Error(`no response to ${target}: ${result.leftover}`);
      return response;
    };

    await t.test("files, types, HEAD, Cache-Control", async (t) => {
      const hello = await get("/static/hello.txt");
      t.equal(hello.status, 200);
      t.equal(hello.body, "hello");
      t.equal(hello.headers["content-type"], "text/plain; charset=utf-8");
      t.equal(hello.headers["cache-control"], "public, max-age=3600");
      t.ok(hello.headers["etag"]);
      t.equal((await get("/static/style.css")).headers["content-type"], "text/css; charset=utf-8");
      t.equal((await get(`/static/${encodeURIComponent("with space é.txt")}`)).body, "spaced", "percent-encoded names");
      t.equal((await get("/site/hello.txt")).headers["cache-control"], undefined, "no Cache-Control without maxAge");
      const head = await get("/static/hello.txt", {}, "HEAD");
      t.equal(head.status, 200);
      t.equal(head.headers["content-length"], "5");
      t.equal(head.body, "");
      t.equal((await get("/static/missing.txt")).status, 404);
      t.same(JSON.parse((await get("/static/missing.txt")).body), { detail: "Not Found" });
    });

    await t.test("GET and HEAD only", async (t) => {
      for (const method of ["POST", "PUT", "DELETE"]) {
        const res = await get("/static/hello.txt", {}, method);
        t.equal(res.status, 405, method);
        t.equal(res.headers["allow"], "GET, HEAD");
      }
    });

    await t.test("conditional and range requests pass through to FileResponse", async (t) => {
      const first = await get("/static/hello.txt");
      const cached = await get("/static/hello.txt", { "if-none-match": first.headers["etag"] as string });
      t.equal(cached.status, 304);
      t.equal(cached.headers["cache-control"], "public, max-age=3600", "304 keeps Cache-Control");
      const since = await get("/static/hello.txt", { "if-modified-since": first.headers["last-modified"] as string });
      t.equal(since.status, 304);
      const part = await get("/static/hello.txt", { range: "bytes=1-3" });
      t.equal(part.status, 206);
      t.equal(part.body, "ell");
      t.equal((await get("/static/hello.txt", { range: "bytes=9-" })).status, 416);
    });

    await t.test("directories", async (t) => {
      t.equal((await get("/static/sub")).status, 404, "a directory asked for as a file: 404 without html mode");
      t.equal((await get("/static/sub/")).status, 404, "no index without html mode");
      t.equal((await get("/static/hello.txt/")).status, 404, "a file asked for as a directory");
      t.equal((await get("/static")).status, 404, "the mount root is a directory too");
    });

    await t.test("html mode", async (t) => {
      const redirect = await get("/site/sub?x=1");
      t.equal(redirect.status, 307);
      t.equal(redirect.headers["location"], "/site/sub/?x=1");
      const index = await get("/site/sub/");
      t.equal(index.status, 200);
      t.equal(index.body, "<h1>sub</h1>");
      t.equal(index.headers["content-type"], "text/html; charset=utf-8");
      t.equal((await get("/site")).headers["location"], "/site/", "the mount root redirects to its slash");
      t.equal((await get("/site/")).body, "<h1>root</h1>");
      const miss = await get("/site/nope.txt");
      t.equal(miss.status, 404);
      t.equal(miss.body, "<h1>custom 404</h1>", "404.html for misses");
      t.equal(miss.headers["content-type"], "text/html; charset=utf-8");
      const noIndex = await get("/site/noindex/");
      t.equal(noIndex.status, 404);
      t.equal(noIndex.body, "<h1>custom 404</h1>");
      const refused = await raw("/site/../secret.txt");
      t.equal(refused.status, 404, "traversal in html mode: the 404 page");
      t.notMatch(refused.body, SECRET);
      t.equal((await get("/site/sub/", { "if-none-match": "*" })).status, 304, "index.html gets validators too");
      t.equal((await get("/site/nope.txt", { "if-none-match": "*" })).status, 404, "not a 304 for the 404 page");
    });

    await t.test("no open redirect from a root mount", async (t) => {
      const res = await raw("//evil.com");
      t.equal(res.status, 307);
      t.equal(res.headers["location"], "/evil.com/", "leading slashes collapsed: not protocol-relative");
      const res2 = await raw("///evil.com?a=b");
      t.equal(res2.headers["location"], "/evil.com/?a=b");
    });

    await t.test("traversal over raw request lines", async (t) => {
      const attacks = [
        "/static/../secret.txt",
        "/static/sub/../../secret.txt",
        "/static/%2e%2e/secret.txt",
        "/static/%2E%2E%2Fsecret.txt",
        "/static/..%2fsecret.txt",
        "/static/sub%2f..%2f..%2fsecret.txt",
        "/static/..%5csecret.txt",
        "/static/sub%5C..%5C..%5Csecret.txt",
        "/static/..\\secret.txt",
        "/static/./hello.txt",
        "/static/hello.txt%00",
        "/static/hello.txt%00.png",
        "/static/%00",
        `/static/${encodeURIComponent(join(base, "secret.txt"))}`,
        `/static/${join(base, "secret.txt")}`,
        "/static//etc/passwd",
        "/static/%2Fetc%2Fpasswd",
        "/static/.env",
        "/static/%2eenv",
        "/static/.well-known/x.txt",
        "/static/link-out.txt",
        "/static/dir-out/secret.txt",
        "/static/link-dot.txt",
        "/static/../public/.env",
        "/dots/../secret.txt",
        "/dots/link-out.txt",
        "/late/../secret.txt",
        "/../secret.txt",
        "/%2e%2e/secret.txt",
      ];
      for (const target of attacks) {
        const res = await raw(target);
        t.ok(res.status === 404 || res.status === 400, `${target}: ${res.status}`);
        t.notMatch(res.body, SECRET, `${target}: nothing secret in the body`);
        t.notMatch(res.body, /root:/, `${target}: no /etc/passwd`);
      }
      // The same server does serve what it should, so the refusals above are not a broken mount.
      t.equal((await raw("/static/hello.txt")).body, "hello");
      t.equal((await raw("/static/sub/page.txt")).body, "page");
    });

    await t.test("symlinks and dotfiles by option", async (t) => {
      t.equal((await get("/static/link-in.txt")).body, "hello", "a link inside the tree is served");
      const out = await get("/follow/link-out.txt");
      t.equal(out.status, 200, "followSymlinks serves a link out");
      t.equal(out.body, SECRET);
      t.equal((await get("/follow/dir-out/secret.txt")).body, SECRET);
      t.equal((await get("/dots/.env")).status, 200, "dotfiles: true serves them");
      t.equal((await get("/dots/.well-known/x.txt")).body, "well known");
      t.equal((await get("/dots/link-dot.txt")).status, 200);
      t.equal((await get("/dots/link-out.txt")).status, 404, "dotfiles does not imply followSymlinks");
    });

    await t.test("checkDir: false, directory created later", async (t) => {
      t.equal((await get("/late/a.txt")).status, 404, "missing directory: 404");
      mkdirSync(join(base, "late"));
      writeFileSync(join(base, "late", "a.txt"), "late file");
      t.equal((await get("/late/a.txt")).body, "late file");
    });
  });
}
