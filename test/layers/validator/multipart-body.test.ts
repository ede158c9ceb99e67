/**
 * The multipart parser and reader: boundaries found wherever the chunks split them, header blocks
 * and their limits, every limit answered 413 without reading further, malformed and truncated
 * bodies answered 400, a client that leaves, files spooled to disk past the threshold.
 */
import t from "tap";
import type { Test } from "tap";
import { createHash } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Receive, ReceiveEvent } from "../../../layers/adapter/events.js";
import { HttpException, ClientDisconnectedError } from "../../../lib/errors.js";
import { MultipartParser, boundaryOf, MAX_PART_HEADER_BYTES, type MultipartSink } from "../../../layers/validator/multipart-parser.js";
import { readMultipartBody, type MultipartReadOptions } from "../../../layers/validator/multipart-body.js";
import { resolveFormLimits, type FormLimits } from "../../../layers/validator/form-limits.js";
import { FileSpool } from "../../../layers/validator/file-spool.js";

const B = "----laminarTestBoundary7MA4YWxk";

/** A part: text, or a file when `filename` is given. */
interface Part {
  name: string;
  value: string | Buffer;
  filename?: string;
  type?: string;
  headers?: string[];
}

function multipart(parts: Part[], boundary = B): Buffer {
  const pieces: Buffer[] = [];
  for (const part of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"`;
    if (part.filename !== undefined) head += `; filename="${part.filename}"`;
    head += "\r\n";
    if (part.type !== undefined) head += `Content-Type: ${part.type}\r\n`;
    for (const extra of part.headers ?? []) head += `${extra}\r\n`;
    pieces.push(Buffer.from(`${head}\r\n`), Buffer.from(part.value), Buffer.from("\r\n"));
  }
  pieces.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(pieces);
}

/** A sink recording what the parser reports. */
function recorder(): MultipartSink & { parts: Array<{ headers: string; data: Buffer }> } {
  const parts: Array<{ headers: string; data: Buffer }> = [];
  let chunks: Buffer[] = [];
  let headers = "";
  return {
    parts,
    partBegin(block) {
      headers = block.toString();
      chunks = [];
    },
    partData(chunk) {
      chunks.push(Buffer.from(chunk));
    },
    partEnd() {
      parts.push({ headers, data: Buffer.concat(chunks) });
    },
  };
}

/** A receive() that yields `chunks` as body events, counting calls; then `tail` (default none). */
function receiver(chunks: Buffer[], tail?: ReceiveEvent): { receive: Receive; first: ReceiveEvent; calls: () => number } {
  const events: ReceiveEvent[] = chunks.map((body, i) => ({ type: "http.request", body, moreBody: i < chunks.length - 1 || tail !== undefined }));
  if (tail !== undefined) events.push(tail);
  let calls = 0;
  const first = events.shift()!;
  return {
    first,
    receive: () => {
      calls++;
      const next = events.shift();
      if (next === undefined) throw new Error("receive() called after the last event");
      return Promise.resolve(next);
    },
    calls: () => calls,
  };
}

function split(buffer: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buffer.length; i += size) out.push(buffer.subarray(i, i + size));
  return out.length === 0 ? [Buffer.alloc(0)] : out;
}

async function withTempDir(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "laminar-form-test-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function options(dir: string, limits: Partial<FormLimits> = {}, extra: Partial<MultipartReadOptions> = {}): MultipartReadOptions {
  const resolved = resolveFormLimits({ tempDir: dir }, limits);
  return {
    boundary: B,
    limits: resolved,
    bodyLimit: 64 * 1024 * 1024,
    storesFile: () => true,
    spool: new FileSpool(resolved.spoolThreshold, dir),
    ...extra,
  };
}

async function rejectsWith(t: Test, promise: Promise<unknown>, status: number, detail: RegExp): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(error, HttpException, "an HttpException");
  const http = error as HttpException;
  t.equal(http.status, status);
  t.match(String(http.detail), detail);
  t.same(http.headers, [["connection", "close"]], "the connection is closed after the answer");
}

t.test("boundaryOf", async (t) => {
  t.equal(boundaryOf(`multipart/form-data; boundary=${B}`), B);
  t.equal(boundaryOf('multipart/form-data; charset=utf-8; boundary="a b:c"'), "a b:c", "quoted, with a space and a colon");
  t.equal(boundaryOf("multipart/form-data; BOUNDARY=x"), "x", "parameter names are case-insensitive");
  t.equal(boundaryOf("multipart/form-data"), undefined, "missing");
  t.equal(boundaryOf("multipart/form-data; boundary="), undefined, "empty");
  t.equal(boundaryOf(`multipart/form-data; boundary=${"a".repeat(71)}`), undefined, "longer than 70");
  t.equal(boundaryOf('multipart/form-data; boundary="ends with space "'), undefined, "ends in a space");
  t.equal(boundaryOf('multipart/form-data; boundary="a\rb"'), undefined, "a CR");
});

t.test("parser: the same parts wherever the body is split", async (t) => {
  const binary = Buffer.alloc(300);
  for (let i = 0; i < binary.length; i++) binary[i] = (i * 7) % 256;
  // Content that looks like the start of a delimiter without being one.
  binary.write(`\r\n--${B.slice(0, 10)}`, 100, "latin1");
  binary.write("\r\n", 298, "latin1");
  const body = Buffer.concat([
    Buffer.from("preamble to ignore\r\n"),
    multipart([
      { name: "a", value: "1" },
      { name: "f", value: binary, filename: "b.bin", type: "application/octet-stream" },
      { name: "empty", value: "" },
    ]),
    Buffer.from("epilogue to ignore"),
  ]);
  for (const size of [1, 2, 3, 5, 7, 16, 41, 64, 1000, body.length]) {
    const sink = recorder();
    const parser = new MultipartParser(B, sink);
    for (const chunk of split(body, size)) parser.push(chunk);
    parser.end();
    t.equal(sink.parts.length, 3, `three parts (chunks of ${size})`);
    t.equal(sink.parts[0]!.headers, 'Content-Disposition: form-data; name="a"');
    t.equal(sink.parts[0]!.data.toString(), "1");
    t.ok(sink.parts[1]!.data.equals(binary), `binary content intact (chunks of ${size})`);
    t.equal(sink.parts[2]!.data.length, 0);
    t.ok(parser.done);
  }
});

t.test("parser: body without preamble CRLF, transport padding, empty header block", async (t) => {
  const sink = recorder();
  const parser = new MultipartParser("x", sink);
  parser.push(Buffer.from("--x \t\r\n\r\nno headers\r\n--x--"));
  parser.end();
  t.same(sink.parts.map((p) => [p.headers, p.data.toString()]), [["", "no headers"]]);
});

t.test("parser: malformed and truncated bodies are 400", async (t) => {
  const cases: Array<[string, string]> = [
    ["not multipart at all", "hello"],
    ["garbage after the boundary", `--${B}XY\r\n\r\n`],
    ["CR without LF after the boundary", `--${B}\rZ`],
    ["truncated in the headers", `--${B}\r\nContent-Disposition: form-data; name="a"\r\n`],
    ["truncated in the content", `--${B}\r\nContent-Disposition: form-data; name="a"\r\n\r\nabc`],
    ["no closing boundary", `--${B}\r\nContent-Disposition: form-data; name="a"\r\n\r\nabc\r\n--${B}\r\n`],
    ["endless padding", `--${B}${" ".repeat(300)}`],
  ];
  for (const [what, text] of cases) {
    const parser = new MultipartParser(B, recorder());
    let error: unknown;
    try {
      parser.push(Buffer.from(text));
      parser.end();
    } catch (e) {
      error = e;
    }
    t.type(error, HttpException, what);
    t.equal((error as HttpException).status, 400, what);
  }
});

t.test("parser: a header block past 16 KiB is 413 before its end arrives", async (t) => {
  const parser = new MultipartParser(B, recorder());
  parser.push(Buffer.from(`--${B}\r\nX-Long: `));
  const error = (() => {
    try {
      for (let i = 0; i < 100; i++) parser.push(Buffer.alloc(1024, 0x61));
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  t.type(error, HttpException);
  t.equal((error as HttpException).status, 413);
  t.match(String((error as HttpException).detail), String(MAX_PART_HEADER_BYTES));
});

t.test("reader: text fields, repeated names, files in memory and on disk", async (t) => {
  const dir = await withTempDir(t);
  const big = Buffer.alloc(200_000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) % 251;
  const body = multipart([
    { name: "title", value: "Zoë" },
    { name: "tag", value: "a" },
    { name: "tag", value: "b" },
    { name: "small", value: "tiny file", filename: "small.txt", type: "text/plain; charset=utf-8", headers: ["X-Extra: 1"] },
    { name: "big", value: big, filename: "big.bin" },
    { name: "__proto__", value: "polluted" },
  ]);
  const opts = options(dir, { spoolThreshold: 64 * 1024 });
  const { first, receive } = receiver(split(body, 16 * 1024));
  const form = await readMultipartBody(first, receive, opts);
  t.same({ ...form.fields }, { title: "Zoë", tag: ["a", "b"] });
  t.equal(Object.getPrototypeOf(form.fields), null);
  t.notOk(Object.hasOwn(form.fields, "__proto__"), "no __proto__ key");
  const small = form.files.get("small")![0]!;
  t.equal(small.filename, "small.txt");
  t.equal(small.contentType, "text/plain", "media type without parameters");
  t.equal(small.headers["x-extra"], "1", "part headers, lower-cased");
  t.equal(small.headers["content-type"], "text/plain; charset=utf-8");
  t.equal(small.path, undefined, "a small file stays in memory");
  t.equal(await small.text(), "tiny file");
  const bigFile = form.files.get("big")![0]!;
  t.equal(bigFile.contentType, "application/octet-stream", "the default media type");
  t.equal(bigFile.size, big.length);
  t.ok(bigFile.path?.startsWith(opts.spool.directory), "spooled into the request's directory");
  t.equal(createHash("sha256").update(await bigFile.read()).digest("hex"), createHash("sha256").update(big).digest("hex"));
  t.same(await readdir(opts.spool.directory), ["1"], "named by laminar, not by the client");
  await opts.spool.remove();
  t.same(await readdir(dir), [], "remove() deletes the directory");
});

t.test("reader: an empty file input is no file; undeclared files are not stored", async (t) => {
  const dir = await withTempDir(t);
  const body = multipart([
    { name: "avatar", value: "", filename: "" },
    { name: "other", value: Buffer.alloc(100_000, 1), filename: "x.bin" },
  ]);
  const opts = options(dir, { spoolThreshold: 10 }, { storesFile: (name) => name === "avatar" });
  const { first, receive } = receiver([body]);
  const form = await readMultipartBody(first, receive, opts);
  t.equal(form.files.size, 0);
  t.same(form.skippedFiles, [{ name: "other", filename: "x.bin" }]);
  await opts.spool.remove();
  t.same(await readdir(dir), [], "nothing was written");
});

t.test("reader: every limit is 413 and stops the reading", async (t) => {
  const dir = await withTempDir(t);
  const cases: Array<{ what: string; limits: Partial<FormLimits>; parts: Part[]; detail: RegExp; bodyLimit?: number }> = [
    { what: "maxFileSize", limits: { maxFileSize: 1000 }, parts: [{ name: "f", value: Buffer.alloc(5000), filename: "f" }], detail: /maxFileSize/ },
    {
      what: "maxFiles",
      limits: { maxFiles: 2 },
      parts: [1, 2, 3].map((i) => ({ name: `f${i}`, value: "x", filename: `${i}.txt` })),
      detail: /More than 2 files \(maxFiles\)/,
    },
    { what: "maxFields", limits: { maxFields: 2 }, parts: [1, 2, 3].map((i) => ({ name: `a${i}`, value: "x" })), detail: /maxFields/ },
    { what: "maxFieldSize", limits: { maxFieldSize: 10 }, parts: [{ name: "a", value: "x".repeat(11) }], detail: /"a" is larger than 10 bytes \(maxFieldSize\)/ },
    {
      what: "maxPartHeaderPairs",
      limits: { maxPartHeaderPairs: 3 },
      parts: [{ name: "a", value: "x", headers: ["A: 1", "B: 2", "C: 3"] }],
      detail: /maxPartHeaderPairs/,
    },
    { what: "bodyLimit", limits: {}, parts: [{ name: "a", value: "x".repeat(5000) }], detail: /bodyLimit/, bodyLimit: 1000 },
  ];
  for (const c of cases) {
    // The over-limit part, then a long tail the reader must never ask for.
    const body = multipart(c.parts);
    const chunks = [...split(body, 256), ...Array.from({ length: 50 }, () => Buffer.alloc(256, 0x20))];
    const { first, receive, calls } = receiver(chunks);
    const opts = options(dir, c.limits, c.bodyLimit === undefined ? {} : { bodyLimit: c.bodyLimit });
    await rejectsWith(t, readMultipartBody(first, receive, opts), 413, c.detail);
    t.ok(calls() < chunks.length - 40, `${c.what}: stopped reading (${calls()} of ${chunks.length} events)`);
    await opts.spool.remove();
  }
  t.same(await readdir(dir), [], "nothing left behind");
});

t.test("reader: a part without a name, a bad header line", async (t) => {
  const dir = await withTempDir(t);
  for (const [what, text] of [
    ["no Content-Disposition", `--${B}\r\nContent-Type: text/plain\r\n\r\nx\r\n--${B}--`],
    ["not form-data", `--${B}\r\nContent-Disposition: attachment; name="a"\r\n\r\nx\r\n--${B}--`],
    ["no name", `--${B}\r\nContent-Disposition: form-data\r\n\r\nx\r\n--${B}--`],
    ["header line without a colon", `--${B}\r\nContent-Disposition form-data\r\n\r\nx\r\n--${B}--`],
  ]) {
    const { first, receive } = receiver([Buffer.from(text!)]);
    await rejectsWith(t, readMultipartBody(first, receive, options(dir)), 400, /Malformed/);
    t.pass(what!);
  }
});

t.test("reader: a client that leaves mid-file; the spool still removes everything", async (t) => {
  const dir = await withTempDir(t);
  const body = multipart([{ name: "f", value: Buffer.alloc(300_000, 7), filename: "f.bin" }]);
  const partial = split(body, 32 * 1024).slice(0, 5);
  const { first, receive } = receiver(partial, { type: "http.disconnect" });
  const opts = options(dir, { spoolThreshold: 1024 });
  const error = await readMultipartBody(first, receive, opts).catch((e: unknown) => e);
  t.type(error, ClientDisconnectedError);
  t.same((await readdir(opts.spool.directory)).length, 1, "the partial file was on disk");
  await opts.spool.remove();
  t.same(await readdir(dir), [], "and is gone after remove()");
});

t.test("reader: a body that ends early is 400", async (t) => {
  const dir = await withTempDir(t);
  const body = multipart([{ name: "f", value: Buffer.alloc(10_000, 7), filename: "f.bin" }]);
  const { first, receive } = receiver([body.subarray(0, 5000)]);
  const opts = options(dir, { spoolThreshold: 100 });
  await rejectsWith(t, readMultipartBody(first, receive, opts), 400, /ended before the closing boundary/);
  await opts.spool.remove();
  t.same(await readdir(dir), []);
});
