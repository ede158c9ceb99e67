/**
 * FileResponse: the pure parts (Content-Disposition, Range parsing, validators) in-process, then
 * everything a client sees over real sockets on node:http and uWS: content types, ETag and
 * Last-Modified with 304s, ranges (206/416/If-Range), HEAD, an 8 MiB file byte for byte, and a
 * client that walks away mid-download (the stream stops, the file handle is closed, the server
 * keeps serving). The uWS half is skipped where uWebSockets.js cannot load.
 */
import t from "tap";
import { createHash, randomBytes } from "node:crypto";
import { closeSync, mkdtempSync, openSync, readdirSync, readlinkSync, realpathSync, rmSync, statSync, writeFileSync, ftruncateSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import { App } from "../../../lib/app.js";
import { silentLogger } from "../../../lib/logger.js";
import { loadUws } from "../../../layers/server/uws-load.js";
import type { App as EventApp, HttpScope, Receive, ReceiveEvent, Send } from "../../../layers/adapter/events.js";
import { FileResponse, guessMediaType, FILE_CHUNK_SIZE } from "../../../layers/handler/file-response.js";
import { contentDisposition } from "../../../layers/handler/content-disposition.js";
import { fileETag, ifRangeHolds, noneMatchHits, notModifiedSince, parseRange } from "../../../layers/handler/file-conditions.js";
import { openSocket } from "../../conformance/server/raw-http.js";

let uwsMissing: string | false = false;
try {
  loadUws();
} catch (error) {
  uwsMissing = `uWebSockets.js unavailable: ${(error as Error).message}`;
}

/** Waits (bounded) until `predicate` holds, polling every few milliseconds. */
async function until(predicate: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** How many of this process's file descriptors are open on `path` (Linux /proc). */
function openFdsOn(path: string): number {
  let count = 0;
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === path) count++;
    } catch {
      // the fd closed while we looked
    }
  }
  return count;
}
const noProc = (() => {
  try {
    readdirSync("/proc/self/fd");
    return false;
  } catch {
    return "no /proc/self/fd on this platform";
  }
})();

const sha256 = (data: Buffer): string => createHash("sha256").update(data).digest("hex");

// --- pure parts ---------------------------------------------------------------------------------

t.test("Content-Disposition", async (t) => {
  t.equal(contentDisposition("attachment"), "attachment");
  t.equal(contentDisposition("attachment", "report.pdf"), 'attachment; filename="report.pdf"');
  t.equal(contentDisposition("inline", 'a "b" \\c.txt'), 'inline; filename="a \\"b\\" \\\\c.txt"', "quotes and backslashes escaped");
  t.equal(
    contentDisposition("attachment", "résumé.pdf"),
    "attachment; filename=\"r_sum_.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf",
    "non-ASCII: ASCII fallback plus RFC 8187 form",
  );
  t.equal(
    contentDisposition("attachment", "日本 (1)'s*.txt"),
    "attachment; filename=\"__ (1)'s*.txt\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC%20%281%29%27s%2A.txt",
    "characters outside attr-char are percent-encoded, including ' ( ) *",
  );
  const injected = contentDisposition("attachment", "a\r\nSet-Cookie: x=1.txt");
  t.notMatch(injected, /[\r\n]/, "CR/LF never reach the header");
  t.equal(injected, 'attachment; filename="a__Set-Cookie: x=1.txt"');
});

t.test("Range parsing", async (t) => {
  const size = 100;
  t.same(parseRange("bytes=0-9", size), { kind: "single", start: 0, end: 9 });
  t.same(parseRange("bytes=90-", size), { kind: "single", start: 90, end: 99 });
  t.same(parseRange("bytes=-10", size), { kind: "single", start: 90, end: 99 });
  t.same(parseRange("bytes=-1000", size), { kind: "single", start: 0, end: 99 }, "suffix longer than the file: all of it");
  t.same(parseRange("bytes=50-1000", size), { kind: "single", start: 50, end: 99 }, "end clamped");
  t.same(parseRange("BYTES = 5-5", size), { kind: "single", start: 5, end: 5 }, "unit case-insensitive");
  t.same(parseRange("bytes=100-", size), { kind: "unsatisfiable" });
  t.same(parseRange("bytes=-0", size), { kind: "unsatisfiable" });
  t.same(parseRange("bytes=0-0", 0), { kind: "unsatisfiable" }, "nothing is satisfiable in an empty file");
  t.same(parseRange("bytes=-5", 0), { kind: "unsatisfiable" });
  t.same(parseRange("bytes=200-300, 5-9", size), { kind: "single", start: 5, end: 9 }, "the one satisfiable range of several");
  t.same(parseRange("bytes=0-1, 5-9", size), { kind: "whole" }, "several ranges: whole file");
  for (const bad of ["bytes=9-1", "bytes=a-b", "bytes=-", "bytes=", "bytes=1-2-3", "items=0-1", "0-1", "bytes=0x10-"]) {
    t.same(parseRange(bad, size), { kind: "whole" }, `ignored: ${bad}`);
  }
});

t.test("validators", async (t) => {
  const meta = { size: 42, mtimeMs: 1_700_000_000_123.7 };
  const etag = fileETag(meta);
  t.match(etag, /^"[0-9a-f]+-[0-9a-f]+"$/, "strong tag");
  t.not(fileETag({ ...meta, size: 43 }), etag, "size changes the tag");
  t.not(fileETag({ ...meta, mtimeMs: meta.mtimeMs + 1 }), etag, "mtime changes the tag");
  t.ok(noneMatchHits(etag, etag));
  t.ok(noneMatchHits(`W/${etag}`, etag), "weak comparison");
  t.ok(noneMatchHits(`"x", ${etag}`, etag), "list");
  t.ok(noneMatchHits("*", etag));
  t.notOk(noneMatchHits('"x", W/"y"', etag));
  const modified = new Date(meta.mtimeMs).toUTCString();
  t.ok(notModifiedSince(modified, meta), "same second");
  t.notOk(notModifiedSince(new Date(meta.mtimeMs - 2000).toUTCString(), meta));
  t.notOk(notModifiedSince("not a date", meta), "bad date ignored");
  t.ok(ifRangeHolds(etag, etag, modified));
  t.notOk(ifRangeHolds(`W/${etag}`, etag, modified), "weak tag never matches If-Range");
  t.notOk(ifRangeHolds(etag, `W/${etag}`, modified), "nor a weak current tag");
  t.notOk(ifRangeHolds('"other"', etag, modified));
  t.ok(ifRangeHolds(modified, etag, modified));
  t.notOk(ifRangeHolds(new Date(meta.mtimeMs - 2000).toUTCString(), etag, modified));
});

t.test("media types", async (t) => {
  t.equal(guessMediaType("a.txt"), "text/plain; charset=utf-8");
  t.equal(guessMediaType("/x/page.HTML"), "text/html; charset=utf-8");
  t.equal(guessMediaType("data.json"), "application/json");
  t.equal(guessMediaType("pic.png"), "image/png");
  t.equal(guessMediaType("blob"), "application/octet-stream");
  t.equal(guessMediaType("x.unknown-ext"), "application/octet-stream");
});

t.test("sendTo without a scope streams the whole file and closes it; the response object is not changed", async (t) => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), "laminar-file-")));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const data = randomBytes(FILE_CHUNK_SIZE * 2 + 5);
  writeFileSync(join(dir, "f.bin"), data);
  const response = new FileResponse(join(dir, "f.bin"));
  const before = response.headers.map((h) => [...h]);
  const events: Array<{ more: boolean; bytes: number }> = [];
  const chunks: Buffer[] = [];
  const send: Send = async (event) => {
    if (event.type === "http.response.body") {
      events.push({ more: event.moreBody === true, bytes: event.body?.length ?? 0 });
      chunks.push(Buffer.from(event.body as Uint8Array));
    }
  };
  await response.sendTo(send);
  t.same(events, [
    { more: true, bytes: FILE_CHUNK_SIZE },
    { more: true, bytes: FILE_CHUNK_SIZE },
    { more: false, bytes: 5 },
  ], "64 KiB chunks, the last one final");
  t.equal(sha256(Buffer.concat(chunks)), sha256(data));
  t.same(response.headers, before, "headers computed at send time went to a copy");
  if (!noProc) t.equal(openFdsOn(join(dir, "f.bin")), 0, "file closed");
  await t.rejects(new FileResponse(join(dir, "nope")).sendTo(send), { name: "HttpException", status: 404 }, "missing: 404 before sending");
  await t.rejects(new FileResponse(dir).sendTo(send), { name: "HttpException", status: 404 }, "a directory: 404");
});

t.test("in-process: a disconnect stops the stream; a given stat is used; a shrinking file fails after the start", async (t) => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), "laminar-file-")));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "f.bin");
  writeFileSync(path, randomBytes(FILE_CHUNK_SIZE * 10));
  const scope = { type: "http", method: "GET", path: "/", rawPath: "/", queryString: "", headers: [], httpVersion: "1.1", scheme: "http", client: null, server: null, rootPath: "", state: {} } as HttpScope;
  let bodies = 0;
  let leave: ((event: ReceiveEvent) => void) | undefined;
  let first = true;
  const receive: Receive = () => {
    if (first) {
      first = false;
      return Promise.resolve({ type: "http.request", body: new Uint8Array(0), moreBody: false });
    }
    return new Promise((resolve) => (leave = resolve));
  };
  const send: Send = async (event) => {
    if (event.type !== "http.response.body") return;
    bodies++;
    if (bodies === 2) leave!({ type: "http.disconnect" }); // the client leaves while the second chunk is out
    await new Promise((resolve) => setImmediate(resolve));
  };
  await new FileResponse(path).sendTo(send, scope, receive);
  t.ok(bodies >= 2 && bodies < 10, `stopped after ${bodies} of 10 chunks`);
  if (!noProc) t.equal(openFdsOn(path), 0, "closed");

  const real = statSync(path);
  const given = new FileResponse(path, { stat: real });
  t.equal(given.headers.find(([k]) => k === "content-length")?.[1], String(real.size), "a given stat sets headers at construction");
  t.ok(given.headers.some(([k]) => k === "etag"));

  // A stat that promises more than the file holds: the stream fails once the file runs out.
  const lying = new FileResponse(path, { stat: { size: real.size + 10, mtimeMs: real.mtimeMs, isFile: () => true } });
  let started = false;
  const tracking: Send = async (event) => {
    if (event.type === "http.response.start") started = true;
  };
  await t.rejects(lying.sendTo(tracking), /shrank/);
  t.ok(started, "after the response started: the server will cut the connection");
  if (!noProc) t.equal(openFdsOn(path), 0, "closed on the failure path too");
  await t.rejects(new FileResponse(join(dir, "gone"), { stat: real }).sendTo(tracking), { name: "HttpException", status: 404 }, "a stat given but the file gone: 404 at open");
});

// --- over real sockets ----------------------------------------------------------------------------

const BIG = 8 * 1024 * 1024;
const HUGE = 256 * 1024 * 1024;

for (const server of ["node", "uws"] as const) {
  t.test(`FileResponse on ${server}`, { skip: server === "uws" ? uwsMissing : false }, async (t) => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), "laminar-file-")));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const text = "hello, file\n".repeat(10); // 120 bytes
    writeFileSync(join(dir, "hello.txt"), text);
    writeFileSync(join(dir, "data.json"), '{"a":1}');
    writeFileSync(join(dir, "pic.png"), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    writeFileSync(join(dir, "blob"), "raw");
    writeFileSync(join(dir, "empty.txt"), "");
    const big = randomBytes(BIG);
    writeFileSync(join(dir, "big.bin"), big);
    // Sparse: 256 MiB of zeros that cost no disk, so a stream that ignored the disconnect would visibly send them all.
    const hugePath = join(dir, "huge.bin");
    const fd = openSync(hugePath, "w");
    ftruncateSync(fd, HUGE);
    closeSync(fd);
    // A fixed mtime, so dates are predictable.
    const mtime = new Date("2024-03-01T12:00:00Z");
    utimesSync(join(dir, "hello.txt"), mtime, mtime);

    const app = new App({ logger: silentLogger, server });
    // Counts body bytes handed to send() for /huge and notes when that handler has returned.
    let hugeSent = 0;
    let hugeDone = false;
    app.use((next: EventApp): EventApp => async (scope, receive, send) => {
      if (scope.type !== "http" || scope.path !== "/huge") return next(scope, receive, send);
      const counting: Send = (event) => {
        if (event.type === "http.response.body") hugeSent += event.body?.length ?? 0;
        return send(event);
      };
      try {
        await next(scope, receive, counting);
      } finally {
        hugeDone = true;
      }
    });
    for (const name of ["hello.txt", "data.json", "pic.png", "blob", "empty.txt", "big.bin"]) {
      app.get(`/${name}`, () => new FileResponse(join(dir, name)));
    }
    app.get("/huge", () => new FileResponse(hugePath));
    app.get("/typed", () => new FileResponse(join(dir, "blob"), { mediaType: "text/csv" }));
    app.get("/download", () => new FileResponse(join(dir, "hello.txt"), { filename: 'résumé "final".txt' }));
    app.get("/inline", () => new FileResponse(join(dir, "pic.png"), { contentDisposition: "inline", filename: "p.png" }));
    app.get("/missing", () => new FileResponse(join(dir, "does-not-exist.txt")));
    app.get("/own-etag", () => new FileResponse(join(dir, "hello.txt"), { headers: { etag: '"v1"', "cache-control": "max-age=60" } }));
    app.get("/not-found-page", () => new FileResponse(join(dir, "hello.txt"), { status: 404 }));
    app.get("/after", () => "still serving");
    const { url, port } = await app.listen({ host: "127.0.0.1", port: 0 });
    t.teardown(() => app.close({ timeout: 1_000 }));

    const get = async (path: string, headers: Record<string, string> = {}, method: "GET" | "HEAD" = "GET") => {
      const res = await request(`${url}${path}`, { method, headers });
      const body = Buffer.from(await res.body.arrayBuffer());
      return { status: res.statusCode, headers: res.headers, body };
    };

    await t.test("content types and length", async (t) => {
      const hello = await get("/hello.txt");
      t.equal(hello.status, 200);
      t.equal(hello.headers["content-type"], "text/plain; charset=utf-8");
      t.equal(hello.headers["content-length"], "120");
      t.equal(hello.headers["accept-ranges"], "bytes");
      t.equal(hello.body.toString(), text);
      t.equal((await get("/data.json")).headers["content-type"], "application/json");
      t.equal((await get("/pic.png")).headers["content-type"], "image/png");
      t.equal((await get("/blob")).headers["content-type"], "application/octet-stream");
      t.equal((await get("/typed")).headers["content-type"], "text/csv", "mediaType wins");
      const empty = await get("/empty.txt");
      t.equal(empty.status, 200);
      t.equal(empty.body.length, 0);
      t.equal(empty.headers["content-length"], "0");
    });

    await t.test("Content-Disposition", async (t) => {
      const dl = await get("/download");
      t.equal(dl.headers["content-disposition"], "attachment; filename=\"r_sum_ \\\"final\\\".txt\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.txt");
      t.equal(dl.headers["content-type"], "text/plain; charset=utf-8", "type from the download name");
      t.equal((await get("/inline")).headers["content-disposition"], 'inline; filename="p.png"');
      t.equal((await get("/hello.txt")).headers["content-disposition"], undefined, "none unless asked");
    });

    await t.test("missing file: 404 from the exception layer", async (t) => {
      const res = await get("/missing");
      t.equal(res.status, 404);
      t.same(JSON.parse(res.body.toString()), { detail: "Not Found" });
    });

    await t.test("ETag, Last-Modified and If-None-Match", async (t) => {
      const first = await get("/hello.txt");
      const etag = first.headers["etag"] as string;
      t.match(etag, /^"[0-9a-f]+-[0-9a-f]+"$/);
      t.equal(first.headers["last-modified"], mtime.toUTCString());
      for (const inm of [etag, `W/${etag}`, `"nope", ${etag}`, "*"]) {
        const res = await get("/hello.txt", { "if-none-match": inm });
        t.equal(res.status, 304, `304 for If-None-Match: ${inm}`);
        t.equal(res.body.length, 0, "no body");
        t.equal(res.headers["etag"], etag, "the ETag is repeated");
        t.equal(res.headers["content-type"], undefined, "representation headers dropped");
        t.equal(res.headers["content-length"], undefined, "no Content-Length on a 304");
      }
      const changed = await get("/hello.txt", { "if-none-match": '"something-else"' });
      t.equal(changed.status, 200);
      t.equal(changed.body.toString(), text);
      const own = await get("/own-etag", { "if-none-match": '"v1"' });
      t.equal(own.status, 304, "a handler's own ETag is used");
      t.equal(own.headers["etag"], '"v1"');
      t.equal(own.headers["cache-control"], "max-age=60", "Cache-Control kept on 304");
      t.equal((await get("/not-found-page", { "if-none-match": "*" })).status, 404, "no conditionals for non-200 responses");
    });

    await t.test("If-Modified-Since", async (t) => {
      t.equal((await get("/hello.txt", { "if-modified-since": mtime.toUTCString() })).status, 304, "same date");
      t.equal((await get("/hello.txt", { "if-modified-since": new Date(mtime.getTime() + 86_400_000).toUTCString() })).status, 304, "later date");
      const older = await get("/hello.txt", { "if-modified-since": new Date(mtime.getTime() - 1000).toUTCString() });
      t.equal(older.status, 200, "older date: the file");
      t.equal(older.body.toString(), text);
      t.equal((await get("/hello.txt", { "if-modified-since": "yesterday-ish" })).status, 200, "bad date ignored");
      const both = await get("/hello.txt", { "if-none-match": '"other"', "if-modified-since": mtime.toUTCString() });
      t.equal(both.status, 200, "If-None-Match present: If-Modified-Since is not consulted (RFC 9110 §13.1.3)");
    });

    await t.test("Range", async (t) => {
      const size = text.length;
      const cases: Array<[string, number, number]> = [
        ["bytes=0-9", 0, 9],
        ["bytes=20-39", 20, 39],
        ["bytes=-7", size - 7, size - 1],
        ["bytes=100-", 100, size - 1],
        ["bytes=110-5000", 110, size - 1],
      ];
      for (const [range, start, end] of cases) {
        const res = await get("/hello.txt", { range });
        t.equal(res.status, 206, range);
        t.equal(res.headers["content-range"], `bytes ${start}-${end}/${size}`);
        t.equal(res.body.toString(), text.slice(start, end + 1));
        t.equal(res.headers["content-type"], "text/plain; charset=utf-8");
      }
      const whole = await get("/hello.txt", { range: "bytes=0-1,5-6" });
      t.equal(whole.status, 200, "several ranges: the whole file");
      t.equal(whole.body.toString(), text);
      t.equal(whole.headers["content-range"], undefined);
      t.equal((await get("/hello.txt", { range: "bytes=5-1" })).status, 200, "malformed: ignored");
      t.equal((await get("/hello.txt", { range: "bytes=0-5" }, "HEAD")).status, 200, "HEAD ignores Range");
    });

    await t.test("416", async (t) => {
      for (const range of ["bytes=120-", "bytes=5000-6000", "bytes=-0"]) {
        const res = await get("/hello.txt", { range });
        t.equal(res.status, 416, range);
        t.equal(res.headers["content-range"], "bytes */120");
        t.equal(res.body.length, 0);
      }
      t.equal((await get("/empty.txt", { range: "bytes=0-" })).status, 416, "any range of an empty file");
    });

    await t.test("If-Range", async (t) => {
      const head = await get("/hello.txt");
      const etag = head.headers["etag"] as string;
      const partial = await get("/hello.txt", { range: "bytes=0-4", "if-range": etag });
      t.equal(partial.status, 206, "matching ETag: the range");
      t.equal(partial.body.toString(), text.slice(0, 5));
      const stale = await get("/hello.txt", { range: "bytes=0-4", "if-range": '"stale-tag"' });
      t.equal(stale.status, 200, "mismatched ETag: the whole file");
      t.equal(stale.body.toString(), text);
      t.equal((await get("/hello.txt", { range: "bytes=0-4", "if-range": `W/${etag}` })).status, 200, "weak tag never matches");
      t.equal((await get("/hello.txt", { range: "bytes=0-4", "if-range": mtime.toUTCString() })).status, 206, "exact date: the range");
      const old = await get("/hello.txt", { range: "bytes=0-4", "if-range": new Date(mtime.getTime() - 5000).toUTCString() });
      t.equal(old.status, 200, "other date: the whole file");
      t.equal((await get("/hello.txt", { range: "bytes=999-", "if-range": '"stale"' })).status, 200, "If-Range failing beats 416");
    });

    await t.test("HEAD", async (t) => {
      const res = await get("/big.bin", {}, "HEAD");
      t.equal(res.status, 200);
      t.equal(res.headers["content-length"], String(BIG), "the length GET would send");
      t.ok(res.headers["etag"]);
      t.equal(res.body.length, 0);
      const hit = await get("/hello.txt", { "if-none-match": "*" }, "HEAD");
      t.equal(hit.status, 304);
    });

    await t.test("an 8 MiB file arrives intact, whole and as a range across chunks", async (t) => {
      const res = await get("/big.bin");
      t.equal(res.status, 200);
      t.equal(res.headers["content-length"], String(BIG), "framed by its length, also when streamed on uWS");
      t.equal(res.headers["transfer-encoding"], undefined, "not chunked");
      t.equal(res.body.length, BIG);
      t.equal(sha256(res.body), sha256(big));
      const start = FILE_CHUNK_SIZE - 3;
      const end = 3 * FILE_CHUNK_SIZE + 1234;
      const part = await get("/big.bin", { range: `bytes=${start}-${end}` });
      t.equal(part.status, 206);
      t.equal(part.headers["content-length"], String(end - start + 1));
      t.equal(sha256(part.body), sha256(big.subarray(start, end + 1)));
      const tail = await get("/big.bin", { range: "bytes=-100000" });
      t.equal(sha256(tail.body), sha256(big.subarray(BIG - 100000)));
      // The client can hold the last byte before the server's close() has run: wait for it (bounded).
      if (!noProc) await until(() => openFdsOn(join(dir, "big.bin")) === 0, "every handle on big.bin to close");
      t.pass("no handle left open");
    });

    await t.test("a slow reader (backpressure at every step) gets every byte, framed by content-length", async (t) => {
      const socket = await openSocket(port);
      const chunks: Buffer[] = [];
      let sinceStall = 0;
      socket.on("data", (chunk: Buffer) => {
        chunks.push(chunk);
        sinceStall += chunk.length;
        if (sinceStall > 512 * 1024) {
          // Stop reading for a moment: the server's socket buffer fills and its writes stall.
          sinceStall = 0;
          socket.pause();
          setTimeout(() => socket.resume(), 20);
        }
      });
      const ended = new Promise<void>((resolve) => socket.on("close", () => resolve()));
      socket.write("GET /big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
      await ended;
      const raw = Buffer.concat(chunks);
      const split = raw.indexOf("\r\n\r\n");
      const head = raw.subarray(0, split).toString("latin1");
      t.match(head, /^HTTP\/1\.1 200 /);
      t.match(head, new RegExp(`\r\ncontent-length: ${BIG}(\r\n|$)`, "i"));
      t.notMatch(head, /transfer-encoding/i);
      const body = raw.subarray(split + 4);
      t.equal(body.length, BIG, "exactly the declared length, nothing after it");
      t.equal(sha256(body), sha256(big));
    });

    await t.test("a client that aborts mid-download: the stream stops, the file is closed, the server goes on", async (t) => {
      const socket = await openSocket(port);
      let received = 0;
      socket.on("data", (chunk: Buffer) => {
        received += chunk.length;
      });
      socket.write("GET /huge HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      await until(() => received > 256 * 1024, "the first bytes of the download");
      socket.pause(); // stop reading: the server fills the buffers and waits on backpressure
      if (!noProc) t.equal(openFdsOn(hugePath), 1, "the file is open mid-stream (so the check below means something)");
      socket.destroy();
      await until(() => hugeDone, "the handler to finish after the abort");
      t.ok(hugeSent < HUGE, `stopped early: ${hugeSent} of ${HUGE} bytes went to send()`);
      if (!noProc) await until(() => openFdsOn(hugePath) === 0, "the file handle to close");
      const after = await get("/after");
      t.equal(after.status, 200);
      t.equal(JSON.parse(after.body.toString()), "still serving");
      const again = await get("/hello.txt");
      t.equal(again.body.toString(), text, "and files still stream");
    });
    t.ok(statSync(hugePath).size === HUGE);
  });
}
