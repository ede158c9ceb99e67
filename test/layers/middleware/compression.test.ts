/**
 * compression: negotiation (q-values, `q=0`, `identity`, `*`, broken and huge headers), which
 * responses are compressed and how their headers change, whole bodies and streams (flushed chunk
 * by chunk, backpressure kept, compressors freed on errors), in-process; then real sockets on both
 * servers: bytes round-trip through node:zlib and a stream arrives incrementally. The uWS half is
 * skipped where uWebSockets.js cannot load.
 */
import t from "tap";
import { randomBytes } from "node:crypto";
import * as zlib from "node:zlib";
import { request } from "undici";
import type { App as EventApp, HeaderList, HttpResponseStartEvent, Receive, Send, SendEvent } from "../../../layers/adapter/events.js";
import { MAX_ACCEPT_ENCODING_ELEMENTS, negotiateEncoding } from "../../../layers/middleware/accept-encoding.js";
import { compression, isCompressible, SYNC_COMPRESS_LIMIT, type CompressionOptions } from "../../../layers/middleware/compression.js";
import { TestClient } from "../../../lib/test-client.js";
import { App } from "../../../lib/app.js";
import { silentLogger } from "../../../lib/logger.js";
import { loadUws } from "../../../layers/server/uws-load.js";
import { PlainTextResponse, StreamingResponse } from "../../../layers/handler/responses.js";
import { httpScope } from "../../fixtures/scopes.js";

let uwsMissing: string | false = false;
try {
  loadUws();
} catch (error) {
  uwsMissing = `uWebSockets.js unavailable: ${(error as Error).message}`;
}

const TEXT = "laminar compresses this line well. ".repeat(100); // 3500 bytes

/** An app answering with `status`, `headers` and `body` in one event. */
function answer(status: number, headers: HeaderList, body: string | Uint8Array = TEXT): EventApp {
  return async (_scope, _receive, send) => {
    await send({ type: "http.response.start", status, headers });
    await send({ type: "http.response.body", body, moreBody: false });
  };
}

function client(app: EventApp, options: CompressionOptions = {}): TestClient {
  return new TestClient(compression(options)(app));
}

const textPlain: HeaderList = [["content-type", "text/plain; charset=utf-8"]];

function decode(coding: string | undefined, body: Buffer): string {
  if (coding === "gzip") return zlib.gunzipSync(body).toString();
  if (coding === "br") return zlib.brotliDecompressSync(body).toString();
  return body.toString();
}

t.test("negotiation", async (t) => {
  const both = ["br", "gzip"] as const;
  const cases: Array<[string, string | undefined]> = [
    ["gzip", "gzip"],
    ["br", "br"],
    ["gzip, br", "br"], // equal q: br preferred
    ["gzip, deflate, br, zstd", "br"],
    ["br;q=0.5, gzip", "gzip"],
    ["br;q=0.5, gzip;q=0.5", "br"],
    ["gzip;q=0.5", "gzip"], // an unnamed identity is a fallback, not preferred
    ["gzip;q=0.5, *;q=0.8", "br"],
    ["GZIP;Q=1.0", "gzip"],
    ["gzip ; q = 0.8 ", "gzip"],
    ["br;q=0, *", "gzip"],
    ["*", "br"],
    ["*;q=0", undefined],
    ["gzip;q=0", undefined],
    ["identity", undefined],
    ["deflate", undefined],
    ["", undefined],
    [",,, ,", undefined],
    ["gzip;q=abc", undefined], // unreadable q: the element is ignored, not taken as q=1
    ["gzip;q=2", undefined],
    ["gzip;q=1.5", undefined],
    ["gzip;q=0.0001", undefined],
    ["gzip;q=-1", undefined],
    ["gzip;q=", undefined],
    ["gzip;q=abc, br;q=0.1", "br"],
    ["gzip;level=9", "gzip"], // another parameter: ignored
    ["gzip;junk", undefined],
    ["gzip;q=0.5, identity", undefined], // identity (q=1) wins over a lower coding
    ["gzip;q=0.5, identity;q=0.5", "gzip"],
    ["gzip;q=0.5, *;q=0", "gzip"], // identity excluded by *;q=0
    ["gzip, gzip;q=0", "gzip"], // a repeat keeps the first weight
  ];
  for (const [value, expected] of cases) t.equal(negotiateEncoding(value, both), expected, JSON.stringify(value));
  t.equal(negotiateEncoding("gzip, br", ["gzip", "br"]), "gzip", "the offered order breaks ties");
  t.equal(negotiateEncoding("br", ["gzip"]), undefined, "a coding not offered is never chosen");
  t.equal(negotiateEncoding("*", ["gzip"]), "gzip");

  // Huge: only the first elements are read, at a cost independent of the header's size.
  const filler = Array.from({ length: MAX_ACCEPT_ENCODING_ELEMENTS }, (_, i) => `x${i}`).join(", ");
  t.equal(negotiateEncoding(`${filler}, gzip`, both), undefined, "past the cap: ignored");
  t.equal(negotiateEncoding(`gzip, ${filler}`, both), "gzip");
  t.equal(negotiateEncoding(`gzip;q=${"0".repeat(100_000)}`, both), undefined, "a huge q value is unreadable");
  t.equal(negotiateEncoding("a".repeat(200_000), both), undefined);
});

t.test("compressible media types", async (t) => {
  for (const type of ["text/plain", "text/html", "text/event-stream", "application/json", "application/javascript", "application/problem+json", "application/atom+xml", "image/svg+xml", "application/x-ndjson"]) {
    t.ok(isCompressible(type), type);
  }
  for (const type of ["image/png", "image/jpeg", "application/octet-stream", "application/zip", "application/gzip", "font/woff2", "video/mp4", "application/pdf", "", "application/"]) {
    t.notOk(isCompressible(type), type);
  }
});

t.test("options are validated at construction", async (t) => {
  t.throws(() => compression({ minimumSize: -1 }), RangeError);
  t.throws(() => compression({ minimumSize: 1.5 }), RangeError);
  t.throws(() => compression({ gzipLevel: 0 }), RangeError);
  t.throws(() => compression({ gzipLevel: 10 }), RangeError);
  t.throws(() => compression({ brotliQuality: 12 }), RangeError);
  t.throws(() => compression({ encodings: [] }), TypeError);
  t.throws(() => compression({ encodings: ["deflate" as "gzip"] }), TypeError);
  t.doesNotThrow(() => compression({ minimumSize: 0, gzipLevel: 1, brotliQuality: 0, encodings: ["gzip"] }));
});

t.test("a whole body is compressed with the negotiated coding, headers rewritten", async (t) => {
  const app = answer(200, [["content-type", "text/plain; charset=utf-8"], ["content-length", String(TEXT.length)], ["etag", '"v1"'], ["vary", "Cookie"]]);
  for (const [accept, coding] of [["gzip", "gzip"], ["gzip, br", "br"], ["br;q=0, *", "gzip"]] as const) {
    const res = await client(app).get("/", { headers: { "accept-encoding": accept } });
    t.equal(res.status, 200);
    t.equal(res.headers["content-encoding"], coding, accept);
    t.equal(res.headers["content-length"], String(res.body.length), "content-length is the compressed size");
    t.ok(res.body.length < TEXT.length / 5);
    t.equal(decode(coding, res.body), TEXT, "round-trips");
    t.equal(res.headers["vary"], "Cookie, accept-encoding", "merged into the app's vary");
    t.equal(res.headerList.filter(([name]) => name === "vary").length, 1);
    t.equal(res.headers["etag"], 'W/"v1"', "a strong etag becomes weak");
    t.equal(res.headerList.filter(([name]) => name === "content-length").length, 1);
  }
  const weak = await client(answer(200, [...textPlain, ["etag", 'W/"v2"'], ["vary", "accept-encoding"]])).get("/", { headers: { "accept-encoding": "gzip" } });
  t.equal(weak.headers["etag"], 'W/"v2"', "a weak etag stays");
  t.equal(weak.headers["vary"], "accept-encoding", "not added twice");
  const star = await client(answer(200, [...textPlain, ["vary", "*"]])).get("/", { headers: { "accept-encoding": "gzip" } });
  t.equal(star.headers["vary"], "*");

  const bytes = await client(answer(200, [["content-type", "application/json"]], new TextEncoder().encode(TEXT))).get("/", { headers: { "accept-encoding": "br" } });
  t.equal(decode("br", bytes.body), TEXT, "a Uint8Array body");
});

t.test("the app's shared header list is not changed", async (t) => {
  const shared: HeaderList = [["content-type", "text/plain"], ["vary", "cookie"], ["content-length", String(TEXT.length)]];
  const frozen = JSON.stringify(shared);
  const app = answer(200, shared);
  for (let i = 0; i < 2; i++) {
    const res = await client(app).get("/", { headers: { "accept-encoding": "gzip" } });
    t.equal(res.headers["vary"], "cookie, accept-encoding");
  }
  t.equal(JSON.stringify(shared), frozen);
});

t.test("what is sent as it is", async (t) => {
  const gzip = { "accept-encoding": "gzip, br" };
  const untouched = async (name: string, app: EventApp, options: CompressionOptions = {}, method = "GET", headers: Record<string, string> = gzip) => {
    const res = await client(app, options).request(method, "/", { headers });
    t.equal(res.headers["content-encoding"], undefined, name);
    t.equal(res.headers["vary"], undefined, `${name}: no vary`);
    return res;
  };
  const small = await untouched("below minimumSize", answer(200, textPlain, "x".repeat(499)));
  t.equal(small.text, "x".repeat(499));
  t.equal((await client(answer(200, textPlain, "x".repeat(500))).get("/", { headers: gzip })).headers["content-encoding"], "br", "at minimumSize: compressed");
  await untouched("minimumSize option", answer(200, textPlain), { minimumSize: 10_000 });
  await untouched("no accept-encoding", answer(200, textPlain), {}, "GET", {});
  await untouched("identity only", answer(200, textPlain), {}, "GET", { "accept-encoding": "identity" });
  await untouched("broken q", answer(200, textPlain), {}, "GET", { "accept-encoding": "gzip;q=abc" });
  await untouched("HEAD", answer(200, textPlain, ""), {}, "HEAD");
  await untouched("image/png", answer(200, [["content-type", "image/png"]]));
  await untouched("no content-type", answer(200, []));
  const encoded = await client(answer(200, [...textPlain, ["content-encoding", "gzip"]])).get("/", { headers: gzip });
  t.same(encoded.headerList, [...textPlain, ["content-encoding", "gzip"]], "already encoded: untouched");
  t.equal(encoded.text, TEXT);
  await untouched("no-transform", answer(200, [...textPlain, ["cache-control", "public, no-transform"]]));
  await untouched("206", answer(206, [...textPlain, ["content-range", "bytes 0-3499/9999"]]));
  await untouched("content-range", answer(200, [...textPlain, ["content-range", "bytes 0-3499/9999"]]));
  await untouched("204", answer(204, textPlain, ""));
  await untouched("304", answer(304, textPlain, ""));
  await untouched("compressible option", answer(200, textPlain), { compressible: (type) => type === "application/json" });
  await untouched("gzip not offered", answer(200, textPlain), { encodings: ["br"] }, "GET", { "accept-encoding": "gzip" });
  const custom = await client(answer(200, [["content-type", "application/x-custom"]]), { compressible: (type) => type === "application/x-custom" }).get("/", { headers: gzip });
  t.equal(custom.headers["content-encoding"], "br", "the compressible option adds types too");

  // Incompressible bytes: compressing would not make the body smaller.
  const random = randomBytes(5_000); // incompressible bytes under a text type
  const res = await client(answer(200, textPlain, random)).get("/", { headers: gzip });
  t.equal(res.headers["content-encoding"], undefined, "not smaller: sent as it is");
  t.equal(res.headers["vary"], "accept-encoding");
  t.same(res.body, random);
});

t.test("large bodies are compressed off the event loop and still round-trip", async (t) => {
  const big = "0123456789abcdef".repeat((SYNC_COMPRESS_LIMIT * 4) / 16);
  for (const coding of ["gzip", "br"]) {
    const res = await client(answer(200, textPlain, big)).get("/", { headers: { "accept-encoding": coding } });
    t.equal(res.headers["content-encoding"], coding);
    t.equal(decode(coding, res.body), big);
  }
});

/** Runs `app` through compression with a recording downstream `send`. */
function recorder(accept: string, method = "GET") {
  const events: SendEvent[] = [];
  const send: Send = async (event) => {
    events.push(event);
  };
  const receive: Receive = async () => ({ type: "http.disconnect" });
  const run = (app: EventApp, options: CompressionOptions = {}) =>
    compression(options)(app)(httpScope(method, "/", { headers: [["accept-encoding", accept]] }), receive, send);
  return { events, run };
}

/** Decompresses the concatenated body events so far, accepting a stream that has not ended. */
function decodeSoFar(coding: string, events: SendEvent[]): string {
  const bytes = Buffer.concat(events.flatMap((e) => (e.type === "http.response.body" && e.body !== undefined ? [Buffer.from(e.body)] : [])));
  if (coding === "gzip") return zlib.gunzipSync(bytes, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).toString();
  return zlib.brotliDecompressSync(bytes, { finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH }).toString();
}

t.test("a stream is compressed chunk by chunk, each chunk readable when its send settles", async (t) => {
  for (const coding of ["gzip", "br"]) {
    const { events, run } = recorder(coding);
    const chunks = ["data: one\n\n", "", "data: two\n\n", "x".repeat(200_000), "data: three\n\n"];
    let sent = "";
    await run(async (_scope, _receive, send) => {
      await send({ type: "http.response.start", status: 200, headers: [["content-type", "text/event-stream"], ["content-length", "999"]] });
      for (const chunk of chunks) {
        await send({ type: "http.response.body", body: chunk, moreBody: true });
        sent += chunk;
        t.equal(decodeSoFar(coding, events), sent, `${coding}: everything sent so far is readable`);
      }
      await send({ type: "http.response.body", body: "end", moreBody: false });
    });
    const start = events[0] as HttpResponseStartEvent;
    t.same(start.headers, [["content-type", "text/event-stream"], ["content-encoding", coding], ["vary", "accept-encoding"]], "no content-length on a stream");
    t.equal(decode(coding, Buffer.concat(events.slice(1).map((e) => Buffer.from((e as { body: Uint8Array }).body)))), `${sent}end`, "the whole stream round-trips");
    const last = events.at(-1)!;
    t.equal(last.type === "http.response.body" && last.moreBody, false, "ends the response");
  }
});

t.test("a stream is compressed even when its chunks are small; an empty final body ends it", async (t) => {
  const { events, run } = recorder("gzip");
  await run(async (_scope, _receive, send) => {
    await send({ type: "http.response.start", status: 200, headers: textPlain });
    await send({ type: "http.response.body", body: "hi", moreBody: true });
    await send({ type: "http.response.body", moreBody: false });
  });
  t.equal(decode("gzip", Buffer.concat(events.slice(1).map((e) => Buffer.from((e as { body: Uint8Array }).body)))), "hi");
  t.same((events[0] as HttpResponseStartEvent).headers.find(([n]) => n === "content-encoding"), ["content-encoding", "gzip"]);
});

t.test("backpressure: the app's send settles only after the server's send does", async (t) => {
  let release: (() => void) | undefined;
  const downstream: SendEvent[] = [];
  const send: Send = (event) => {
    downstream.push(event);
    if (event.type === "http.response.body" && event.moreBody === true) return new Promise<void>((resolve) => (release = resolve));
    return Promise.resolve();
  };
  let settled = false;
  let calledDownstream!: () => void;
  const reachedServer = new Promise<void>((resolve) => (calledDownstream = resolve));
  const app: EventApp = async (_scope, _receive, send) => {
    await send({ type: "http.response.start", status: 200, headers: textPlain });
    const pending = send({ type: "http.response.body", body: TEXT, moreBody: true }).then(() => (settled = true));
    await pending;
    await send({ type: "http.response.body", body: "", moreBody: false });
  };
  const done = compression()(app)(httpScope("GET", "/", { headers: [["accept-encoding", "gzip"]] }), async () => ({ type: "http.disconnect" }), (event) => {
    const result = send(event);
    if (event.type === "http.response.body") calledDownstream();
    return result;
  });
  await reachedServer;
  // The chunk reached the server, whose send has not settled: the app must still be waiting.
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(settled, false, "the app is held back while the server is");
  release!();
  await done;
  t.equal(settled, true);
  t.equal(downstream.length, 3);
});

t.test("errors: the compressor is freed and the held start never leaks", async (t) => {
  // The app throws after its start (held, no body yet): nothing reached the server, so the error
  // layer outside can still answer 500.
  const { events, run } = recorder("gzip");
  await t.rejects(
    run(async (_scope, _receive, send) => {
      await send({ type: "http.response.start", status: 200, headers: textPlain });
      throw new Error("boom");
    }),
    { message: "boom" },
  );
  t.same(events, [], "the held start was dropped");

  // The app throws mid-stream: the error propagates (the server ends the connection).
  const midStream = recorder("br");
  await t.rejects(
    midStream.run(async (_scope, _receive, send) => {
      await send({ type: "http.response.start", status: 200, headers: textPlain });
      await send({ type: "http.response.body", body: "part", moreBody: true });
      throw new Error("mid-stream");
    }),
    { message: "mid-stream" },
  );
  t.equal(midStream.events.length, 2);

  // The server's send fails: the app sees it.
  const failing: Send = async (event) => {
    if (event.type === "http.response.body") throw new Error("socket gone");
  };
  await t.rejects(
    compression()(async (_scope, _receive, send) => {
      await send({ type: "http.response.start", status: 200, headers: textPlain });
      await send({ type: "http.response.body", body: "part", moreBody: true });
    })(httpScope("GET", "/", { headers: [["accept-encoding", "gzip"]] }), async () => ({ type: "http.disconnect" }), failing),
    { message: "socket gone" },
  );

  // The app returns with its start held and no body: the server still gets the start (and reports the protocol error).
  const unfinished = recorder("gzip");
  await unfinished.run(async (_scope, _receive, send) => {
    await send({ type: "http.response.start", status: 200, headers: textPlain });
  });
  t.same(unfinished.events, [{ type: "http.response.start", status: 200, headers: textPlain }]);
  const viaClient = client(async (_scope, _receive, send) => {
    await send({ type: "http.response.start", status: 200, headers: textPlain });
  });
  await t.rejects(viaClient.get("/", { headers: { "accept-encoding": "gzip" } }), { name: "ResponseNotCompletedError" });
});

t.test("lifespan scopes pass through", async (t) => {
  const seen: string[] = [];
  const next: EventApp = async (scope) => {
    seen.push(scope.type);
  };
  const layer = compression()(next);
  await layer({ type: "lifespan", state: {} }, async () => ({ type: "lifespan.startup" }), async () => {});
  t.same(seen, ["lifespan"]);
});

/** Reads a response body through a decompressor, resolving `waitFor(text)` once `text` has arrived. */
function incremental(body: AsyncIterable<Buffer>, coding: string) {
  const decoder = coding === "gzip" ? zlib.createGunzip() : zlib.createBrotliDecompress();
  let text = "";
  const waiters: Array<{ needle: string; resolve: () => void }> = [];
  decoder.on("data", (chunk: Buffer) => {
    text += chunk.toString();
    for (const waiter of waiters.splice(0)) {
      if (text.includes(waiter.needle)) waiter.resolve();
      else waiters.push(waiter);
    }
  });
  const finished = (async () => {
    for await (const chunk of body) decoder.write(chunk);
    decoder.end();
    await new Promise((resolve) => decoder.once("end", resolve));
    return text;
  })();
  return {
    finished,
    waitFor: (needle: string) =>
      new Promise<void>((resolve, reject) => {
        if (text.includes(needle)) return resolve();
        const timer = setTimeout(() => reject(new Error(`${JSON.stringify(needle)} did not arrive within 5 s (got ${JSON.stringify(text)})`)), 5_000);
        waiters.push({ needle, resolve: () => (clearTimeout(timer), resolve()) });
      }),
  };
}

for (const server of ["node", "uws"] as const) {
  t.test(`compression on ${server}`, { skip: server === "uws" ? uwsMissing : false }, async (t) => {
    const app = new App({ logger: silentLogger, server });
    app.use(compression());
    const big = Buffer.from(Array.from({ length: 4000 }, (_, i) => `line ${i}: ${"é€".repeat(i % 7)}\n`).join(""));
    app.get("/big", () => new PlainTextResponse(big.toString()));
    // One gate per event, created when the request arrives: the generator waits at gate i until
    // the client has read event i (bounded: a broken layer fails the client's waitFor, not the run).
    let release: Array<() => void> = [];
    app.get("/stream", () => {
      const gates = [0, 1, 2].map(() => new Promise<void>((resolve) => (release.push(resolve), setTimeout(resolve, 6_000).unref())));
      return new StreamingResponse(
        (async function* () {
          for (const [i, event] of ["first", "second", "third"].entries()) {
            yield `data: ${event}\n\n`;
            await gates[i];
          }
        })(),
        { headers: { "content-type": "text/event-stream" } },
      );
    });
    const { url } = await app.listen({ host: "127.0.0.1", port: 0 });
    t.teardown(() => app.close({ timeout: 1_000 }));

    for (const coding of ["gzip", "br"]) {
      const res = await request(`${url}/big`, { headers: { "accept-encoding": coding } });
      t.equal(res.headers["content-encoding"], coding);
      t.equal(res.headers["vary"], "accept-encoding");
      const bytes = Buffer.from(await res.body.arrayBuffer());
      t.equal(res.headers["content-length"], String(bytes.length));
      const decoded = coding === "gzip" ? zlib.gunzipSync(bytes) : zlib.brotliDecompressSync(bytes);
      t.ok(decoded.equals(big), `${coding}: the bytes round-trip`);
    }
    const plain = await request(`${url}/big`);
    t.equal(plain.headers["content-encoding"], undefined);
    t.ok(Buffer.from(await plain.body.arrayBuffer()).equals(big), "without accept-encoding: as it is");

    for (const coding of ["gzip", "br"]) {
      release = [];
      const res = await request(`${url}/stream`, { headers: { "accept-encoding": coding } });
      t.equal(res.headers["content-encoding"], coding);
      t.equal(res.headers["content-length"], undefined);
      const reader = incremental(res.body as AsyncIterable<Buffer>, coding);
      for (const event of ["first", "second", "third"]) {
        await reader.waitFor(`data: ${event}\n\n`);
        t.pass(`${coding}: "${event}" arrived before the next was produced`);
        release.shift()!();
      }
      t.equal(await reader.finished, "data: first\n\ndata: second\n\ndata: third\n\n");
    }
  });
}
