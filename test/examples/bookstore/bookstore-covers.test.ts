/**
 * The bookstore's cover images over real sockets (node:http and uWS): upload (multipart, bearer
 * token, media type sniffed from the bytes, size limit), download (ETag, 304, ranges), replacement
 * and deletion (old files removed after the response), and what a hostile client sends.
 */
import t, { type Test } from "tap";
import { createHash } from "node:crypto";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { FormData, request } from "undici";
import { silentLogger } from "../../../lib/logger.js";
import { loadUws } from "../../../layers/server/uws-load.js";
import { createBookstore } from "../../../examples/bookstore/app.js";
import { MAX_COVER_SIZE, sniffImage } from "../../../examples/bookstore/covers.js";
import { AUTH_OPTIONS, READER, tokenOver } from "./auth-client.js";
import { STORES, storeOptions } from "./stores.js";

let uwsUnavailable: string | false = false;
try {
  loadUws();
} catch (err) {
  uwsUnavailable = `uWebSockets.js unavailable: ${(err as Error).message}`;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** `size` bytes that start with `signature` and go on with a pattern (not a real image: only the head is checked). */
function imageBytes(signature: readonly number[], size: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + 7) & 0xff;
  Buffer.from(signature).copy(bytes);
  return bytes;
}

const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

function coverForm(bytes: Uint8Array, type = "image/png", name = "cover.png"): FormData {
  const form = new FormData();
  form.append("cover", new Blob([bytes], { type }), name);
  return form;
}

/** Waits until the covers directory holds `count` files (removal runs after the response). */
async function filesEventually(directory: string, count: number): Promise<string[]> {
  for (let attempt = 0; ; attempt++) {
    const files = await readdir(directory);
    if (files.length === count || attempt === 200) return files;
    await sleep(10);
  }
}

t.test("sniffImage tells the four formats from their first bytes, and nothing else", async (t) => {
  t.equal(sniffImage(Buffer.from(PNG_SIGNATURE))?.mediaType, "image/png");
  t.equal(sniffImage(Buffer.from([0xff, 0xd8, 0xff, 0xe0]))?.mediaType, "image/jpeg");
  t.equal(sniffImage(Buffer.from("GIF89a"))?.mediaType, "image/gif");
  t.equal(sniffImage(Buffer.from("GIF87a"))?.extension, "gif");
  t.equal(sniffImage(Buffer.from("RIFF\x10\x00\x00\x00WEBPVP8 ", "latin1"))?.mediaType, "image/webp");
  for (const hostile of ["", "GIF8", "GIF88a", "RIFF\x10\x00\x00\x00WAVE", "\x89PNG", "<svg xmlns='http://www.w3.org/2000/svg'/>", "%PDF-1.7"]) {
    t.equal(sniffImage(Buffer.from(hostile, "latin1")), undefined, JSON.stringify(hostile));
  }
});

for (const store of STORES) {
  for (const server of ["node", "uws"] as const) {
    t.test(`covers on ${server}, ${store.name}`, { skip: store.skip || (server === "uws" && uwsUnavailable) }, async (t: Test) => {
      const directory = t.testdir();
      const covers = join(directory, "covers");
      const app = createBookstore({
        databaseFile: join(directory, "books.db"),
        coversDirectory: covers,
        logger: silentLogger,
        server,
        ...AUTH_OPTIONS,
        ...(await storeOptions(t, store)),
      });
      const { url } = await app.listen({ host: "127.0.0.1", port: 0 });
      t.teardown(() => app.close({ timeout: 0 }));
      const token = await tokenOver(url);
      const auth = { authorization: `Bearer ${token}` };
      const json = { "content-type": "application/json", ...auth };
      const author = (await (await request(`${url}/authors`, { method: "POST", headers: json, body: '{"name":"Ursula K. Le Guin"}' })).body.json()) as { id: number };
      const book = (await (
        await request(`${url}/books`, { method: "POST", headers: json, body: JSON.stringify({ title: "The Dispossessed", authorId: author.id, price: 9 }) })
      ).body.json()) as { id: number };
      const coverUrl = `${url}/books/${book.id}/cover`;
      const png = imageBytes(PNG_SIGNATURE, 5000);

      await t.test("no cover yet: 404", async (t) => {
        const res = await request(coverUrl);
        t.equal(res.statusCode, 404);
        t.same(await res.body.json(), { detail: "Cover not found" });
      });

      await t.test("writes need a token with books:write", async (t) => {
        const anonymous = await request(coverUrl, { method: "PUT", body: coverForm(png) });
        t.equal(anonymous.statusCode, 401);
        t.match(anonymous.headers["www-authenticate"], /^Bearer/);
        await anonymous.body.dump();
        const readerToken = await tokenOver(url, READER);
        const reader = await request(coverUrl, { method: "PUT", headers: { authorization: `Bearer ${readerToken}` }, body: coverForm(png) });
        t.equal(reader.statusCode, 403);
        await reader.body.dump();
        t.same(await readdir(covers), [], "nothing stored");
      });

      await t.test("hostile uploads are refused and leave nothing behind", async (t) => {
        const text = await request(coverUrl, { method: "PUT", headers: auth, body: coverForm(Buffer.from("not an image, whatever the name says"), "image/png") });
        t.equal(text.statusCode, 415, "a text file called cover.png");
        t.same(await text.body.json(), { detail: "A cover must be a PNG, JPEG, GIF or WebP image" });

        const svg = await request(coverUrl, { method: "PUT", headers: auth, body: coverForm(Buffer.from("<svg xmlns='http://www.w3.org/2000/svg'/>"), "image/svg+xml", "x.svg") });
        t.equal(svg.statusCode, 415, "SVG (script-capable) is not a cover format");
        await svg.body.dump();

        const tooBig = await request(coverUrl, { method: "PUT", headers: auth, body: coverForm(imageBytes(PNG_SIGNATURE, MAX_COVER_SIZE + 1)) });
        t.equal(tooBig.statusCode, 413, "one byte over the limit");
        await tooBig.body.dump();

        const asJson = await request(coverUrl, { method: "PUT", headers: json, body: '{"cover":"iVBORw0KGgo="}' });
        t.equal(asJson.statusCode, 415, "JSON instead of a form");
        await asJson.body.dump();

        const noFile = new FormData();
        noFile.append("title", "no cover here");
        const missing = await request(coverUrl, { method: "PUT", headers: auth, body: noFile });
        t.equal(missing.statusCode, 422, "the cover field is required");
        t.match(await missing.body.json(), { detail: [{ loc: ["body", "cover"] }] });

        const textField = new FormData();
        textField.append("cover", "just text");
        const notAFile = await request(coverUrl, { method: "PUT", headers: auth, body: textField });
        t.equal(notAFile.statusCode, 422, "a text value where a file belongs");
        await notAFile.body.dump();

        const noBook = await request(`${url}/books/999999/cover`, { method: "PUT", headers: auth, body: coverForm(png) });
        t.equal(noBook.statusCode, 404);
        t.same(await noBook.body.json(), { detail: "Book not found" });

        const badId = await request(`${url}/books/0/cover`, { method: "PUT", headers: auth, body: coverForm(png) });
        t.equal(badId.statusCode, 422, "the path id is validated");
        await badId.body.dump();

        // The server's ceiling was raised for the cover route; every other route keeps the 1 MiB default.
        const bigJson = await request(`${url}/authors`, { method: "POST", headers: json, body: JSON.stringify({ name: "x".repeat(1_500_000) }) });
        t.equal(bigJson.statusCode, 413, "a 1.5 MB body to a route without its own bodyLimit");
        await bigJson.body.dump();

        t.same(await readdir(covers), [], "no file stored by any refused upload");
      });

      let etag = "";
      await t.test("upload, then download with the sniffed type, validators, 304 and a range", async (t) => {
        // The client says octet-stream; the stored type comes from the bytes.
        const put = await request(coverUrl, { method: "PUT", headers: auth, body: coverForm(png, "application/octet-stream", "../../etc/passwd") });
        t.equal(put.statusCode, 200);
        t.same(await put.body.json(), { bookId: book.id, mediaType: "image/png", size: png.length, url: `/books/${book.id}/cover` });
        const files = await readdir(covers);
        t.equal(files.length, 1);
        t.match(files[0], new RegExp(`^${book.id}-[0-9a-f-]{36}\\.png$`), "named by the server, not the client");

        const get = await request(coverUrl);
        t.equal(get.statusCode, 200);
        t.equal(get.headers["content-type"], "image/png");
        t.equal(get.headers["cache-control"], "no-cache");
        t.equal(sha256(Buffer.from(await get.body.arrayBuffer())), sha256(png), "the same bytes come back");
        etag = String(get.headers.etag);
        t.match(etag, /^"/);

        const again = await request(coverUrl, { headers: { "if-none-match": etag } });
        t.equal(again.statusCode, 304);
        t.equal(await again.body.text(), "");

        const head = await request(coverUrl, { headers: { range: "bytes=0-7" } });
        t.equal(head.statusCode, 206);
        t.equal(head.headers["content-range"], `bytes 0-7/${png.length}`);
        t.same([...Buffer.from(await head.body.arrayBuffer())], PNG_SIGNATURE);

        const past = await request(coverUrl, { headers: { range: `bytes=${png.length}-` } });
        t.equal(past.statusCode, 416);
        await past.body.dump();
      });

      await t.test("a new cover (spooled to disk) replaces the old one, whose file is removed after the response", async (t) => {
        const jpeg = imageBytes([0xff, 0xd8, 0xff, 0xe0], 1_500_000);
        const put = await request(coverUrl, { method: "PUT", headers: auth, body: coverForm(jpeg, "image/jpeg", "cover.jpg") });
        const putBody = await put.body.json();
        t.equal(put.statusCode, 200, JSON.stringify(putBody));
        t.match(putBody, { mediaType: "image/jpeg", size: jpeg.length });
        const files = await filesEventually(covers, 1);
        t.equal(files.length, 1, "the old file is gone");
        t.match(files[0], /\.jpg$/);

        const stale = await request(coverUrl, { headers: { "if-none-match": etag } });
        t.equal(stale.statusCode, 200, "the old ETag no longer matches");
        t.equal(stale.headers["content-type"], "image/jpeg");
        t.equal(sha256(Buffer.from(await stale.body.arrayBuffer())), sha256(jpeg));
      });

      await t.test("deleting the cover, then the book, removes rows and files", async (t) => {
        const del = await request(coverUrl, { method: "DELETE", headers: auth });
        t.equal(del.statusCode, 204);
        await del.body.dump();
        t.same(await filesEventually(covers, 0), []);
        const gone = await request(coverUrl, { method: "DELETE", headers: auth });
        t.equal(gone.statusCode, 404, "deleting twice");
        await gone.body.dump();

        const put = await request(coverUrl, { method: "PUT", headers: auth, body: coverForm(png) });
        t.equal(put.statusCode, 200);
        await put.body.dump();
        t.equal((await readdir(covers)).length, 1);
        const delBook = await request(`${url}/books/${book.id}`, { method: "DELETE", headers: auth });
        t.equal(delBook.statusCode, 204);
        await delBook.body.dump();
        t.same(await filesEventually(covers, 0), [], "the book's cover file goes with it");
        const res = await request(coverUrl);
        t.equal(res.statusCode, 404);
        await res.body.dump();
      });
    });
  }
}
