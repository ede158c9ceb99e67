/**
 * UploadFile and the file spool: memory up to the threshold (inclusive), disk past it, every way
 * to read the bytes, `save()`, metadata as JSON, the schema helper, and removal that waits for
 * writes in flight and is safe to repeat.
 */
import t from "tap";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Type } from "@sinclair/typebox";
import { UploadFile, UploadFileSchema, isFileSchema } from "../../../layers/handler/upload-file.js";
import { FileSpool, SPOOL_DIR_PREFIX } from "../../../layers/validator/file-spool.js";

async function tempDir(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "laminar-upload-test-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

t.test("a file up to the threshold stays in memory", async (t) => {
  const dir = await tempDir(t);
  const spool = new FileSpool(10, dir);
  const writer = spool.begin(new UploadFile("a.txt", "text/plain", { "content-type": "text/plain" }));
  writer.write(Buffer.from("hello"));
  writer.write(Buffer.from("world"));
  writer.end();
  t.equal(spool.settled(), undefined, "nothing to wait for");
  const file = writer.file;
  t.equal(file.size, 10);
  t.equal(file.path, undefined);
  t.equal(await file.text(), "helloworld");
  t.equal((await file.read()).toString(), "helloworld", "read() twice gives the same bytes");
  t.equal((await collect(file.stream())).toString(), "helloworld");
  t.same(JSON.parse(JSON.stringify(file)), { filename: "a.txt", contentType: "text/plain", size: 10 });
  const saved = join(dir, "saved.txt");
  await file.save(saved);
  t.equal(await readFile(saved, "utf8"), "helloworld");
  t.same(await readdir(dir), ["saved.txt"], "no spool directory was made");
  await spool.remove();
});

t.test("one byte past the threshold moves the file to disk", async (t) => {
  const dir = await tempDir(t);
  const spool = new FileSpool(10, dir);
  const writer = spool.begin(new UploadFile("b.bin", "application/octet-stream", {}));
  writer.write(Buffer.from("hello"));
  writer.write(Buffer.from("world!"));
  const pending = spool.settled();
  t.ok(pending instanceof Promise, "the writes are waited for");
  await pending;
  for (let i = 0; i < 100; i++) writer.write(Buffer.alloc(1000, i));
  writer.end();
  await spool.settled();
  const file = writer.file;
  t.equal(file.size, 11 + 100_000);
  t.ok(file.path !== undefined && file.path.startsWith(join(dir, SPOOL_DIR_PREFIX)), "inside the request's directory");
  t.equal((await stat(spool.directory)).mode & 0o777, 0o700, "owner-only directory");
  const expected = Buffer.concat([Buffer.from("helloworld!"), ...Array.from({ length: 100 }, (_, i) => Buffer.alloc(1000, i))]);
  const digest = (b: Buffer): string => createHash("sha256").update(b).digest("hex");
  t.equal(digest(await file.read()), digest(expected));
  t.equal(digest(await collect(file.stream())), digest(expected), "streamed from disk");
  const saved = join(dir, "copy.bin");
  await file.save(saved);
  t.equal(digest(await readFile(saved)), digest(expected));
  await spool.remove();
  t.same(await readdir(dir), ["copy.bin"], "the spool directory is gone, the saved copy stays");
  await spool.remove();
  t.pass("remove() twice is fine");
});

t.test("remove() waits for writes in flight", async (t) => {
  const dir = await tempDir(t);
  const spool = new FileSpool(0, dir);
  const writers = [0, 1, 2].map((i) => spool.begin(new UploadFile(`${i}`, "x/y", {})));
  // Not awaited: remove() is called while the directory, the opens and the writes are pending.
  for (const writer of writers) for (let i = 0; i < 20; i++) writer.write(Buffer.alloc(64 * 1024, i));
  await spool.remove();
  t.same(await readdir(dir), [], "no file appears after removal");
});

t.test("a failed write rejects settled()", async (t) => {
  const spool = new FileSpool(0, join(tmpdir(), "laminar-no-such-parent-dir", "deeper"));
  const writer = spool.begin(new UploadFile("x", "x/y", {}));
  writer.write(Buffer.from("data"));
  await t.rejects(spool.settled()!, { code: "ENOENT" });
  await spool.remove();
});

t.test("the schema helper and file detection", async (t) => {
  const schema = UploadFileSchema({ description: "An avatar" });
  t.same(JSON.parse(JSON.stringify(schema)), { description: "An avatar", type: "string", format: "binary" });
  t.ok(isFileSchema(schema));
  t.ok(isFileSchema({ type: "string", contentMediaType: "image/png" }), "OpenAPI 3.1 binary content");
  t.notOk(isFileSchema({ type: "string", contentMediaType: "image/png", contentEncoding: "base64" }), "base64 text is text");
  t.notOk(isFileSchema(Type.String()));
  t.notOk(isFileSchema(Type.Array(UploadFileSchema())), "an array is a list of files, not a file");
});
