/**
 * The bookstore served by the HTTP/2 server (`server: "http2"`), unchanged: over h2c (prior
 * knowledge) and over TLS (h2 by ALPN), with node:http2's client, plus undici (`allowH2`) on TLS.
 * Covers the JSON routes and login, the docs (/docs, /openapi.json), a multipart upload streamed in
 * DATA frames, the cover file response (streamed, with ranges) and a compressed list. SQLite only:
 * the store is not what is tested here.
 */
import t, { type Test } from "tap";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import type { ClientHttp2Session } from "node:http2";
import { Agent, request } from "undici";
import { silentLogger } from "../../../lib/index.js";
import { createBookstore } from "../../../examples/bookstore/app.js";
import type { TlsOptions } from "../../../layers/server/connection-server.js";
import { AUTH_OPTIONS, FORM_HEADERS, passwordForm, WRITER } from "./auth-client.js";
import { h2connect, h2request } from "../../conformance/server/http2-client.js";
import { makeTestCertificate } from "../../fixtures/test-certificate.js";

t.setTimeout(50_000);

const material = makeTestCertificate(t.testdir());

/** PNG signature, then a pattern: only the head is sniffed. */
function pngBytes(size: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + 7) & 0xff;
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(bytes);
  return bytes;
}

/** A multipart/form-data body with one file field `cover`. */
function coverForm(bytes: Buffer): { body: Buffer; type: string } {
  const boundary = "----laminar-h2-test";
  const head = `--${boundary}\r\ncontent-disposition: form-data; name="cover"; filename="cover.png"\r\ncontent-type: image/png\r\n\r\n`;
  return { body: Buffer.concat([Buffer.from(head), bytes, Buffer.from(`\r\n--${boundary}--\r\n`)]), type: `multipart/form-data; boundary=${boundary}` };
}

for (const mode of ["h2c", "h2 over TLS"] as const) {
  const skip = mode === "h2 over TLS" && typeof material === "string" ? material : false;
  t.test(`bookstore over ${mode}`, { skip }, async (t: Test) => {
    const dir = t.testdir();
    const tls: TlsOptions | undefined = mode === "h2c" ? undefined : (material as TlsOptions);
    const app = createBookstore({ databaseFile: join(dir, "books.db"), coversDirectory: join(dir, "covers"), logger: silentLogger, server: "http2", ...AUTH_OPTIONS });
    const { url } = await app.listen({ host: "127.0.0.1", port: 0, ...(tls === undefined ? {} : { tls }) });
    t.teardown(() => app.close({ timeout: 0 }));
    const session: ClientHttp2Session = await h2connect(url, tls === undefined ? {} : { ca: tls.cert });
    t.teardown(() => session.close());
    const json = (body: Buffer): unknown => JSON.parse(body.toString());

    const health = await h2request(session, { ":path": "/health" });
    t.equal(health.status, 200);
    t.same(json(health.body), { status: "ok" });

    const login = await h2request(session, { ":method": "POST", ":path": "/token", ...FORM_HEADERS }, passwordForm(WRITER.username, WRITER.password));
    t.equal(login.status, 200, "login over a streamed form body");
    const token = (json(login.body) as { access_token: string }).access_token;
    const writes = { authorization: `Bearer ${token}`, "content-type": "application/json" };

    const author = await h2request(session, { ":method": "POST", ":path": "/authors", ...writes }, JSON.stringify({ name: "Ursula K. Le Guin" }));
    t.equal(author.status, 201);
    const authorId = (json(author.body) as { id: number }).id;
    const invalid = await h2request(session, { ":method": "POST", ":path": "/authors", ...writes }, '{"name": ');
    t.equal(invalid.status, 422, "broken JSON: validation error");

    // Many books at once, on one connection: the streams are multiplexed.
    const created = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        h2request(session, { ":method": "POST", ":path": "/books", ...writes }, JSON.stringify({ title: `Book ${i} ${"x".repeat(40)}`, authorId, price: 10 + i, tags: ["sf"] })),
      ),
    );
    t.same(created.map((r) => r.status), created.map(() => 201), "30 concurrent creates");
    const bookId = (json(created[0]!.body) as { id: number }).id;

    const list = await h2request(session, { ":path": "/books?limit=50", "accept-encoding": "gzip" });
    t.equal(list.status, 200);
    t.equal(list.headers["content-encoding"], "gzip", "the compression middleware's streamed gzip");
    t.equal((json(gunzipSync(list.body)) as unknown[]).length, 30);

    const docs = await h2request(session, { ":path": "/docs" });
    t.equal(docs.status, 200);
    t.match(docs.body.toString(), /swagger-ui/i, "Swagger UI page");
    const openapi = await h2request(session, { ":path": "/openapi.json" });
    t.equal(openapi.status, 200);
    t.ok((json(openapi.body) as { paths: Record<string, unknown> }).paths["/books/{id}/cover"], "the document lists the cover route");

    const png = pngBytes(200_000);
    const form = coverForm(png);
    const upload = await h2request(session, { ":method": "PUT", ":path": `/books/${bookId}/cover`, authorization: `Bearer ${token}`, "content-type": form.type }, form.body);
    t.equal(upload.status, 200, `multipart upload in DATA frames: ${upload.body.toString().slice(0, 200)}`);
    const cover = await h2request(session, { ":path": `/books/${bookId}/cover` });
    t.equal(cover.status, 200);
    t.equal(cover.headers["content-type"], "image/png");
    t.ok(cover.body.equals(png), "the streamed file response, every byte");
    const range = await h2request(session, { ":path": `/books/${bookId}/cover`, range: "bytes=100-199" });
    t.equal(range.status, 206);
    t.ok(range.body.equals(png.subarray(100, 200)), "a byte range");
    const etag = cover.headers.etag as string;
    const notModified = await h2request(session, { ":path": `/books/${bookId}/cover`, "if-none-match": etag });
    t.equal(notModified.status, 304);
    t.equal(notModified.body.length, 0);

    if (tls !== undefined) {
      const agent = new Agent({ allowH2: true, connect: { ca: tls.cert } });
      t.teardown(() => agent.close());
      const viaUndici = await request(`${url}/books/${bookId}`, { dispatcher: agent });
      t.equal(viaUndici.statusCode, 200, "undici allowH2");
      t.match(await viaUndici.body.json(), { id: bookId, authorId });
      const h1 = new Agent({ connect: { ca: tls.cert } });
      t.teardown(() => h1.close());
      const viaH1 = await request(`${url}/docs`, { dispatcher: h1 });
      t.equal(viaH1.statusCode, 200, "HTTP/1.1 fallback on the same port serves the docs too");
      await viaH1.body.dump();
    }
  });
}

