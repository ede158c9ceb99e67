/**
 * Form bodies: urlencoded parsing (WHATWG rules, limits, prototype safety), which media types a
 * form route accepts (415 for others, an empty body as an empty form, 400 without a boundary),
 * and the part-header helpers (Content-Disposition parameters, RFC 8187 file names, header limits).
 */
import t from "tap";
import type { Test } from "tap";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Receive, ReceiveEvent } from "../../../layers/adapter/events.js";
import { BodyTooLargeError, HttpException, UnsupportedMediaTypeError } from "../../../lib/errors.js";
import { parseUrlencoded, readFormBody, type FormReadOptions } from "../../../layers/validator/form-body.js";
import { resolveFormLimits, DEFAULT_FORM_LIMITS } from "../../../layers/validator/form-limits.js";
import { FileSpool } from "../../../layers/validator/file-spool.js";
import { parseDisposition, parsePartHeaders } from "../../../layers/validator/part-headers.js";

const limits = resolveFormLimits();

/** Asserts that `fn` throws an HttpException with `status` (and a detail matching `detail`). */
function throwsStatus(t: Test, fn: () => unknown, status: number, detail?: RegExp, message = "throws"): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  t.type(error, HttpException, message);
  t.equal((error as HttpException).status, status, message);
  if (detail !== undefined) t.match(String((error as HttpException).detail), detail, message);
}

function once(body: string | Buffer): { first: ReceiveEvent; receive: Receive } {
  return {
    first: { type: "http.request", body: Buffer.from(body), moreBody: false },
    receive: () => Promise.reject(new Error("read past the end")),
  };
}

function readOptions(dir: string, bodyLimit = 1 << 20): FormReadOptions & { spools: FileSpool[] } {
  const spools: FileSpool[] = [];
  return {
    limits: resolveFormLimits({ tempDir: dir }),
    bodyLimit,
    storesFile: () => true,
    spool: () => {
      const spool = new FileSpool(1024, dir);
      spools.push(spool);
      return spool;
    },
    spools,
  };
}

t.test("urlencoded: WHATWG rules", async (t) => {
  const form = parseUrlencoded(Buffer.from("q=two+words&tag=a&tag=b&flag&pct=%C3%A9%2B&bad=%zz%E9&=anon&k%20ey=v"), limits);
  t.same({ ...form.fields }, { q: "two words", tag: ["a", "b"], flag: "", pct: "é+", bad: "%zz\uFFFD", "": "anon", "k ey": "v" });
  t.equal(Object.getPrototypeOf(form.fields), null, "no prototype");
  t.equal(form.files.size, 0);
});

t.test("urlencoded: __proto__ and constructor keys are plain data", async (t) => {
  const form = parseUrlencoded(Buffer.from("__proto__=x&__proto__[admin]=1&constructor=y"), limits);
  t.notOk(Object.hasOwn(form.fields, "__proto__"));
  t.equal(form.fields.constructor, "y");
  t.equal(({} as Record<string, unknown>).admin, undefined, "Object.prototype untouched");
});

t.test("urlencoded: limits are 413 naming the limit", async (t) => {
  const tooMany = Array.from({ length: 11 }, (_, i) => `a${i}=1`).join("&");
  throwsStatus(t, () => parseUrlencoded(Buffer.from(tooMany), { maxFields: 10, maxFieldSize: 100 }), 413, /maxFields/);
  t.doesNotThrow(() => parseUrlencoded(Buffer.from(tooMany), { maxFields: 11, maxFieldSize: 100 }));
  throwsStatus(t, () => parseUrlencoded(Buffer.from(`a=${"é".repeat(6)}`), { maxFields: 10, maxFieldSize: 11 }), 413, /"a".*maxFieldSize/, "counted in UTF-8 bytes");
  t.doesNotThrow(() => parseUrlencoded(Buffer.from(`a=${"é".repeat(6)}`), { maxFields: 10, maxFieldSize: 12 }));
});

t.test("readFormBody: media types", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "laminar-form-test-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const opts = readOptions(dir);

  const urlencoded = once("a=1");
  const form = await readFormBody(urlencoded.first, urlencoded.receive, "Application/X-WWW-Form-Urlencoded; charset=UTF-8", opts);
  t.same({ ...form.fields }, { a: "1" }, "type matched case-insensitively, parameters ignored");

  for (const type of [undefined, "application/json", "text/plain"]) {
    const empty = once("");
    const result = await readFormBody(empty.first, empty.receive, type, opts);
    t.same({ ...result.fields }, {}, `an empty body is an empty form (${type ?? "no content-type"})`);
  }

  for (const type of [undefined, "application/json", "text/plain", "multipart/mixed; boundary=x"]) {
    const json = once('{"a":1}');
    const error = await readFormBody(json.first, json.receive, type, opts).catch((e: unknown) => e);
    t.type(error, UnsupportedMediaTypeError, `415 for ${type ?? "no content-type"}`);
  }

  for (const type of ["multipart/form-data", "multipart/form-data; boundary=", 'multipart/form-data; boundary="a\tb"']) {
    const body = once("--x\r\n");
    const error = (await readFormBody(body.first, body.receive, type, opts).catch((e: unknown) => e)) as HttpException;
    t.equal(error.status, 400, `400 for ${JSON.stringify(type)}`);
    t.match(String(error.detail), /boundary/);
  }
  t.equal(opts.spools.length, 0, "no spool for a body that was refused before parsing");

  const multipart = once('--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nv\r\n--x--\r\n');
  const parsed = await readFormBody(multipart.first, multipart.receive, "multipart/form-data; boundary=x", opts);
  t.same({ ...parsed.fields }, { a: "v" });
  t.equal(opts.spools.length, 1, "a multipart body gets a spool");
  await opts.spools[0]!.remove();
  t.same(await readdir(dir), []);
});

t.test("readFormBody: an urlencoded body past bodyLimit is 413", async (t) => {
  const opts = readOptions(tmpdir(), 10);
  const big = once("a=" + "x".repeat(100));
  const error = await readFormBody(big.first, big.receive, "application/x-www-form-urlencoded", opts).catch((e: unknown) => e);
  t.type(error, BodyTooLargeError);
});

t.test("parseDisposition", async (t) => {
  t.same(parseDisposition('form-data; name="a"; filename="b.txt"'), { type: "form-data", params: { name: "a", filename: "b.txt" } });
  t.same(parseDisposition("Form-Data; NAME=plain")?.params.name, "plain", "token value, names case-insensitive");
  t.equal(parseDisposition('form-data; name="q\\"uote\\\\d"')!.params.name, 'q"uote\\d', "escaped quote and backslash");
  t.equal(parseDisposition('form-data; name="f"; filename="C:\\dir\\file.txt"')!.params.filename, "C:\\dir\\file.txt", "Windows path kept");
  t.equal(parseDisposition('form-data; name="f"; filename="../../etc/passwd"')!.params.filename, "../../etc/passwd", "kept as sent");
  t.equal(
    parseDisposition("form-data; name=\"f\"; filename=\"fallback.txt\"; filename*=UTF-8''%E2%82%AC%20rates.txt")!.params.filename,
    "€ rates.txt",
    "RFC 8187 wins",
  );
  t.equal(parseDisposition("form-data; name=f; filename*=iso-8859-1''caf%E9")!.params.filename, "café");
  t.equal(parseDisposition("form-data; name=f; filename=a; filename*=UTF-8''%FF")!.params.filename, "a", "undecodable: the plain one");
  t.equal(parseDisposition('form-data; name="a";')!.params.name, "a", "trailing semicolon");
  t.equal(parseDisposition('form-data; name="a'), undefined, "unterminated quote");
  t.equal(parseDisposition('form-data; name="a"x'), undefined, "junk after a quoted string");
  t.equal(parseDisposition("form-data; novalue"), undefined, "parameter without =");
  t.equal(parseDisposition("form data"), undefined, "not a token");
});

t.test("parsePartHeaders", async (t) => {
  const headers = parsePartHeaders(Buffer.from('Content-Disposition: form-data; name="é"\r\nX-A: 1\r\nx-a: 2\r\nX-Fold: one\r\n two'), 16);
  t.same({ ...headers }, { "content-disposition": 'form-data; name="é"', "x-a": "1, 2", "x-fold": "one two" }, "UTF-8, lower-cased, joined, unfolded");
  throwsStatus(t, () => parsePartHeaders(Buffer.from("A: 1\r\nB: 2\r\nC: 3"), 2), 413, /more than 2 headers/);
  throwsStatus(t, () => parsePartHeaders(Buffer.from("no colon"), 16), 400, undefined);
  throwsStatus(t, () => parsePartHeaders(Buffer.from(": empty name"), 16), 400, undefined);
  throwsStatus(t, () => parsePartHeaders(Buffer.from("A: x\u0000y"), 16), 400, undefined, "NUL in a value");
  t.equal(DEFAULT_FORM_LIMITS.maxPartHeaderPairs, 16);
});
