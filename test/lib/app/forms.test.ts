/**
 * Form routes end to end, over real sockets on node:http and uWS (and in-process where no socket
 * is needed): urlencoded with coercion and arrays, 422s located in the body, multipart with text
 * and two files (one spooled to disk, checked by sha256), a unicode and a hostile file name, every
 * limit as 413 with the server still serving, malformed and truncated bodies, a client that leaves
 * mid-upload, a handler that throws, a streamed file and a background task reading one, and the
 * request's temporary directory gone after every one of them.
 */
import t from "tap";
import type { Test } from "tap";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Type } from "@sinclair/typebox";
import { request, FormData } from "undici";
import { App } from "../../../lib/app.js";
import { TestClient } from "../../../lib/test-client.js";
import { silentLogger } from "../../../lib/logger.js";
import { RouteDefinitionError } from "../../../lib/errors.js";
import { loadUws } from "../../../layers/server/uws-load.js";
import { StreamingResponse } from "../../../layers/handler/responses.js";
import { UploadFileSchema, type UploadFile } from "../../../layers/handler/upload-file.js";

let uwsMissing: string | false = false;
try {
  loadUws();
} catch (error) {
  uwsMissing = `uWebSockets.js unavailable: ${(error as Error).message}`;
}

const sha256 = (data: Buffer): string => createHash("sha256").update(data).digest("hex");

/** Waits (bounded) until `predicate` holds. */
async function until(predicate: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const emptied = (dir: string) => async (): Promise<boolean> => (await readdir(dir)).length === 0;

const Profile = Type.Object({
  name: Type.String({ minLength: 1 }),
  age: Type.Integer({ minimum: 0 }),
  tags: Type.Array(Type.String()),
  newsletter: Type.Optional(Type.Boolean()),
});

const Upload = Type.Object({
  title: Type.String(),
  doc: UploadFileSchema(),
  extra: Type.Optional(Type.Array(UploadFileSchema(), { maxItems: 3 })),
});

interface FileSummary {
  field: string;
  filename: string;
  contentType: string;
  size: number;
  sha256: string;
  onDisk: boolean;
  existedDuringHandler: boolean;
}

async function summary(field: string, file: UploadFile): Promise<FileSummary> {
  return {
    field,
    filename: file.filename,
    contentType: file.contentType,
    size: file.size,
    sha256: sha256(await file.read()),
    onDisk: file.path !== undefined,
    existedDuringHandler: file.path === undefined || existsSync(file.path),
  };
}

/** The app under test; `tempDir` is where its spool directories go. */
function formApp(tempDir: string, server: "node" | "uws" = "node"): { app: App; background: Buffer[] } {
  const background: Buffer[] = [];
  const app = new App({ logger: silentLogger, server, maxBodySize: 8 * 1024 * 1024, formLimits: { tempDir, spoolThreshold: 64 * 1024 } });
  app.post("/profile", { form: Profile }, ({ form }) => form);
  app.post("/upload", { form: Upload, bodyLimit: 4 * 1024 * 1024 }, async ({ form }) => {
    // Types flow from the schema: a file is an UploadFile, a list of files an UploadFile[].
    const doc: UploadFile = form.doc;
    const extra: UploadFile[] | undefined = form.extra;
    const files = [await summary("doc", doc)];
    for (const file of extra ?? []) files.push(await summary("extra", file));
    return { title: form.title, files };
  });
  app.post(
    "/limited",
    {
      form: Type.Object({ a: Type.Optional(Type.String()), f: Type.Optional(Type.Array(UploadFileSchema())) }),
      formLimits: { maxFileSize: 1000, maxFiles: 2, maxFields: 3, maxFieldSize: 100 },
    },
    ({ form }) => ({ files: form.f?.length ?? 0 }),
  );
  app.post("/stream", { form: Type.Object({ doc: UploadFileSchema() }) }, ({ form }) => new StreamingResponse(form.doc.stream()));
  app.post("/boom", { form: Type.Object({ doc: UploadFileSchema() }) }, () => {
    throw new Error("handler failed");
  });
  app.post("/background", { form: Type.Object({ doc: UploadFileSchema() }) }, ({ form, background: tasks }) => {
    tasks.add(async () => void background.push(await form.doc.read()));
    return { queued: true };
  });
  app.get("/ping", ({ form }) => {
    // A route without a form has no form: its type says so.
    const none: undefined = form;
    return { pong: none === undefined };
  });
  return { app, background };
}

async function tempDirFor(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "laminar-forms-test-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Bytes for a file: deterministic, not all one value. */
function bytes(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = (i * 131 + seed) % 256;
  return out;
}

interface RawResponse {
  status: number;
  headers: string;
  body: string;
  closed: boolean;
}

/**
 * Sends `head` and `chunks` over a raw socket and resolves with the first response (parsed by its
 * content-length) or whatever came before the connection closed. `hold` leaves the socket open
 * after the chunks (a client still "sending"); the caller then closes it.
 */
function rawRequest(port: number, data: Array<string | Buffer>): { socket: Socket; response: Promise<RawResponse> } {
  const socket = connect(port, "127.0.0.1");
  socket.on("error", () => undefined);
  for (const piece of data) socket.write(piece);
  const response = new Promise<RawResponse>((resolve, reject) => {
    let received = Buffer.alloc(0);
    let done = false;
    const timer = setTimeout(() => finish(new Error("no response within 5 s")), 5_000);
    const finish = (error?: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (error !== undefined) return reject(error);
      const text = received.toString("latin1");
      const end = text.indexOf("\r\n\r\n");
      const headers = end === -1 ? text : text.slice(0, end);
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(headers)?.[1] ?? 0), headers, body: end === -1 ? "" : text.slice(end + 4), closed: socket.destroyed || socket.readableEnded });
    };
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const text = received.toString("latin1");
      const end = text.indexOf("\r\n\r\n");
      const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end));
      if (end !== -1 && length !== null && received.length >= end + 4 + Number(length[1])) finish();
    });
    socket.on("close", () => finish());
  });
  return { socket, response };
}

function multipartBody(boundary: string, parts: Array<{ name: string; value: string | Buffer; filename?: string }>, close = true): Buffer {
  const pieces: Buffer[] = [];
  for (const part of parts) {
    const file = part.filename === undefined ? "" : `; filename="${part.filename}"`;
    pieces.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"${file}\r\n\r\n`), Buffer.from(part.value), Buffer.from("\r\n"));
  }
  if (close) pieces.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(pieces);
}

for (const server of ["node", "uws"] as const) {
  t.test(`forms on ${server}`, { skip: server === "uws" ? uwsMissing : false }, async (t) => {
    const tempDir = await tempDirFor(t);
    const { app, background } = formApp(tempDir, server);
    const { url, port } = await app.listen({ host: "127.0.0.1", port: 0 });
    t.teardown(() => app.close({ timeout: 1_000 }));
    const ping = async (what: string): Promise<void> => {
      const res = await request(`${url}/ping`);
      t.same(await res.body.json(), { pong: true }, `still serving after ${what}`);
    };

    t.test("urlencoded: coercion, repeated keys, + as space", async (t) => {
      const res = await request(`${url}/profile`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "name=Ada+Lovelace&age=36&tags=math&tags=poetry&newsletter=true",
      });
      t.equal(res.statusCode, 200);
      t.same(await res.body.json(), { name: "Ada Lovelace", age: 36, tags: ["math", "poetry"], newsletter: true });
      const single = await request(`${url}/profile`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ name: "B", age: "1", tags: "solo" }).toString(),
      });
      t.same(await single.body.json(), { name: "B", age: 1, tags: ["solo"] }, "one value for an array field is a one-element array");
    });

    t.test("urlencoded: missing and invalid fields are 422 with loc", async (t) => {
      const res = await request(`${url}/profile`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "age=old&tags=x&name=",
      });
      t.equal(res.statusCode, 422);
      const { detail } = (await res.body.json()) as { detail: Array<{ loc: unknown[]; type: string; input?: unknown }> };
      t.same(
        detail.map((issue) => [issue.loc, issue.type]),
        [
          [["body", "name"], "missing"],
          [["body", "age"], "int_parsing"],
        ],
        "in declaration order; an empty value is not sent",
      );
      t.equal(detail[0]!.input, null, "a missing field does not echo the form");
    });

    t.test("multipart: text fields and two files, one spooled to disk", async (t) => {
      const small = Buffer.from("small file");
      const big = bytes(300_000, 3);
      const form = new FormData();
      form.append("title", "Report");
      form.append("doc", new Blob([small], { type: "text/plain" }), "notes.txt");
      form.append("extra", new Blob([big], { type: "application/pdf" }), "résumé 📄.pdf");
      const res = await request(`${url}/upload`, { method: "POST", body: form });
      t.equal(res.statusCode, 200);
      const body = (await res.body.json()) as { title: string; files: FileSummary[] };
      t.equal(body.title, "Report");
      t.same(body.files, [
        { field: "doc", filename: "notes.txt", contentType: "text/plain", size: small.length, sha256: sha256(small), onDisk: false, existedDuringHandler: true },
        { field: "extra", filename: "résumé 📄.pdf", contentType: "application/pdf", size: big.length, sha256: sha256(big), onDisk: true, existedDuringHandler: true },
      ]);
      await until(emptied(tempDir), "the spool directory to be removed");
      t.pass("temporary files removed after the response");
    });

    t.test("multipart: a hostile file name is only a name", async (t) => {
      const boundary = "hostile";
      const body = multipartBody(boundary, [
        { name: "title", value: "x" },
        { name: "doc", value: bytes(100_000, 9), filename: "../../../../tmp/laminar-escaped.txt" },
      ]);
      const res = await request(`${url}/upload`, { method: "POST", headers: { "content-type": `multipart/form-data; boundary=${boundary}` }, body });
      t.equal(res.statusCode, 200);
      const { files } = (await res.body.json()) as { files: FileSummary[] };
      t.equal(files[0]!.filename, "../../../../tmp/laminar-escaped.txt", "kept as sent");
      t.equal(files[0]!.onDisk, true);
      t.notOk(existsSync("/tmp/laminar-escaped.txt"), "nothing written where the name points");
      await until(emptied(tempDir), "removal");
    });

    t.test("multipart: validation failures are 422 and still clean up", async (t) => {
      const form = new FormData();
      form.append("doc", "text where a file belongs");
      form.append("extra", new Blob([bytes(100_000, 1)]), "a.bin");
      const res = await request(`${url}/upload`, { method: "POST", body: form });
      t.equal(res.statusCode, 422);
      const { detail } = (await res.body.json()) as { detail: Array<{ loc: unknown[]; type: string }> };
      t.same(
        detail.map((issue) => [issue.loc, issue.type]),
        [
          [["body", "title"], "missing"],
          [["body", "doc"], "value_error"],
        ],
      );
      await until(emptied(tempDir), "removal after a 422");
      t.pass("the spooled file of the failed request is gone");

      const tooMany = new FormData();
      tooMany.append("title", "t");
      tooMany.append("doc", new Blob(["d"]), "d.txt");
      for (let i = 0; i < 4; i++) tooMany.append("extra", new Blob(["e"]), `${i}.txt`);
      const list = await request(`${url}/upload`, { method: "POST", body: tooMany });
      t.equal(list.statusCode, 422);
      t.match(await list.body.json(), { detail: [{ loc: ["body", "extra"], type: "too_long", ctx: { max_length: 3, actual_length: 4 } }] });
    });

    t.test("a JSON body to a form route is 415", async (t) => {
      const res = await request(`${url}/profile`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"name":"x"}' });
      t.equal(res.statusCode, 415);
      t.match(await res.body.json(), { detail: /application\/x-www-form-urlencoded or multipart\/form-data/ });
    });

    t.test("limits: 413 naming the limit, and the server keeps serving", async (t) => {
      const cases: Array<[string, Array<{ name: string; value: string | Buffer; filename?: string }>, RegExp]> = [
        ["maxFileSize", [{ name: "f", value: bytes(5000, 2), filename: "big.bin" }], /"f" is larger than 1000 bytes \(maxFileSize\)/],
        ["maxFiles", [1, 2, 3].map((i) => ({ name: "f", value: "x", filename: `${i}.txt` })), /More than 2 files \(maxFiles\)/],
        ["maxFields", [1, 2, 3, 4].map((i) => ({ name: `a${i}`, value: "x" })), /More than 3 form fields \(maxFields\)/],
        ["maxFieldSize", [{ name: "a", value: "x".repeat(101) }], /maxFieldSize/],
      ];
      for (const [limit, parts, detail] of cases) {
        const body = multipartBody("lim", parts);
        const res = await request(`${url}/limited`, { method: "POST", headers: { "content-type": "multipart/form-data; boundary=lim" }, body });
        t.equal(res.statusCode, 413, limit);
        t.match(await res.body.json(), { detail }, limit);
        await ping(limit);
      }
      const under = multipartBody("lim", [1, 2].map((i) => ({ name: "f", value: bytes(1000, i), filename: `${i}.bin` })));
      const ok = await request(`${url}/limited`, { method: "POST", headers: { "content-type": "multipart/form-data; boundary=lim" }, body: under });
      t.same(await ok.body.json(), { files: 2 }, "exactly at the limits is accepted");
      await until(emptied(tempDir), "removal");
    });

    t.test("limits: the 413 comes before the rest of the body is sent", async (t) => {
      // Declares 5 MB, sends an oversized file's first bytes, and then nothing more.
      const start = multipartBody("lim", [{ name: "f", value: bytes(3000, 5), filename: "big.bin" }], false);
      const { socket, response } = rawRequest(port, [
        `POST /limited HTTP/1.1\r\nhost: x\r\ncontent-type: multipart/form-data; boundary=lim\r\ncontent-length: 5000000\r\n\r\n`,
        start,
      ]);
      const res = await response;
      socket.destroy();
      t.equal(res.status, 413);
      t.match(res.headers, /\r\nconnection: close/i, "and says the connection closes");
      await ping("an unfinished oversized upload");
    });

    t.test("malformed bodies are 400", async (t) => {
      const missing = await request(`${url}/profile`, { method: "POST", headers: { "content-type": "multipart/form-data" }, body: "--x\r\n" });
      t.equal(missing.statusCode, 400, "no boundary");
      t.match(await missing.body.json(), { detail: /boundary/ });
      const truncated = multipartBody("cut", [{ name: "title", value: "t" }, { name: "doc", value: bytes(200_000, 4), filename: "d.bin" }], false);
      const res = await request(`${url}/upload`, { method: "POST", headers: { "content-type": "multipart/form-data; boundary=cut" }, body: truncated });
      t.equal(res.statusCode, 400, "no closing boundary");
      t.match(await res.body.json(), { detail: /ended before the closing boundary/ });
      const wrong = await request(`${url}/upload`, {
        method: "POST",
        headers: { "content-type": "multipart/form-data; boundary=other" },
        body: multipartBody("cut", [{ name: "title", value: "t" }]),
      });
      t.equal(wrong.statusCode, 400, "a boundary that never appears");
      await until(emptied(tempDir), "removal after a 400");
      await ping("malformed bodies");
    });

    t.test("a client that leaves mid-upload: no crash, files removed", async (t) => {
      const start = multipartBody("gone", [{ name: "title", value: "t" }, { name: "doc", value: bytes(400_000, 6), filename: "d.bin" }], false);
      const { socket } = rawRequest(port, [
        `POST /upload HTTP/1.1\r\nhost: x\r\ncontent-type: multipart/form-data; boundary=gone\r\ncontent-length: ${start.length + 1_000_000}\r\n\r\n`,
        start,
      ]);
      await until(async () => (await readdir(tempDir)).length > 0, "the upload to reach the disk");
      socket.destroy();
      await until(emptied(tempDir), "removal after the client left");
      t.pass("the spool directory is gone");
      await ping("a client that left");
    });

    t.test("a handler that throws: 500, files removed", async (t) => {
      const form = new FormData();
      form.append("doc", new Blob([bytes(200_000, 7)]), "d.bin");
      const res = await request(`${url}/boom`, { method: "POST", body: form });
      t.equal(res.statusCode, 500);
      await res.body.dump();
      await until(emptied(tempDir), "removal after a 500");
      t.pass("removed");
    });

    t.test("a streamed file and a background task read the spooled file before removal", async (t) => {
      const big = bytes(500_000, 8);
      const form = new FormData();
      form.append("doc", new Blob([big]), "d.bin");
      const res = await request(`${url}/stream`, { method: "POST", body: form });
      t.equal(res.statusCode, 200);
      t.equal(sha256(Buffer.from(await res.body.arrayBuffer())), sha256(big), "the whole file streamed back");
      await until(emptied(tempDir), "removal after the stream");

      const again = new FormData();
      again.append("doc", new Blob([big]), "d.bin");
      const queued = await request(`${url}/background`, { method: "POST", body: again });
      t.same(await queued.body.json(), { queued: true });
      await until(() => background.length === 1, "the background task");
      t.equal(sha256(background[0]!), sha256(big), "the task read the file after the response");
      await until(emptied(tempDir), "removal after the task");
    });
  });
}

t.test("in-process: route declarations", async (t) => {
  const app = new App({ logger: silentLogger });
  app.post("/both", { body: Type.Object({}), form: Type.Object({}) }, () => null);
  t.throws(() => app.build(), RouteDefinitionError, "body and form together are refused at compile time");

  const notObject = new App({ logger: silentLogger });
  notObject.post("/x", { form: Type.String() }, () => null);
  t.throws(() => notObject.build(), RouteDefinitionError, "a form must be an object schema");
});

t.test("in-process: chunked multipart, app-wide limits, route overrides", async (t) => {
  const tempDir = await tempDirFor(t);
  const app = new App({ logger: silentLogger, formLimits: { tempDir, maxFileSize: 10 } });
  app.post("/app", { form: Type.Object({ f: UploadFileSchema() }) }, ({ form }) => ({ size: form.f.size }));
  app.post("/route", { form: Type.Object({ f: UploadFileSchema() }), formLimits: { maxFileSize: 20 } }, ({ form }) => ({ size: form.f.size }));
  const client = new TestClient(app);
  const body = multipartBody("b", [{ name: "f", value: "x".repeat(15), filename: "f.txt" }]);
  const headers = { "content-type": "multipart/form-data; boundary=b" };
  const refused = await client.post("/app", { body, headers, chunks: 9 });
  t.equal(refused.status, 413, "the app-wide limit");
  t.equal(refused.headers.connection, "close");
  const accepted = await client.post("/route", { body, headers, chunks: 9 });
  t.same(accepted.json(), { size: 15 }, "the route's own limit wins");
  const empty = await client.post("/route", { body: multipartBody("b", [{ name: "f", value: "", filename: "" }]), headers });
  t.match(empty.json(), { detail: [{ loc: ["body", "f"], type: "missing" }] }, "an empty file input is a missing file");
  await until(emptied(tempDir), "removal");
});
