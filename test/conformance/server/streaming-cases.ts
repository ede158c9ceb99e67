/**
 * The streaming part of the connection-server conformance suite (run by `serverConformance` for
 * every server): clients that leave mid-request or mid-response (the app sees `http.disconnect`,
 * its sends resolve, the server keeps serving); a client that stops reading a large response (the
 * app must be held back by `await send()`); an app that stops reading, or reads slowly, a large
 * request body (the server must stop reading the client and lose nothing); and an app that
 * streams its response before reading a large body (neither direction may stall).
 *
 * No timing assertions: "the app stopped sending" is judged by polling its counter until it no
 * longer moves ({@link untilStable}); every wait has a guard that fails instead of hanging.
 *
 * @module
 */
import type { Test } from "tap";
import { createHash, randomBytes } from "node:crypto";
import type { Socket } from "node:net";
import type { App, ReceiveEvent } from "../../../layers/adapter/events.js";
import type { ConnectionServer, ListenOptions, ListeningAddress } from "../../../layers/server/connection-server.js";
import { collectResponses, openSocket, rawRequest } from "./raw-http.js";
import { readStreamedResponse } from "./stream-reader.js";
import { guarded, untilStable } from "./settle.js";
import { capturingLogger, deferred, type LogEntry } from "./test-apps.js";

/** What the suite hands its parts: the skip-aware `test`, and a server starter with teardown. */
export interface SuiteContext {
  name: string;
  test: (title: string, fn: (t: Test) => Promise<void>) => void;
  start: (t: Test, app: App, options?: ListenOptions) => Promise<{ server: ConnectionServer } & ListeningAddress>;
}

const KiB = 1024;
const MiB = 1024 * KiB;
const GOOD_REQUEST = "GET /still-serving HTTP/1.1\r\nHost: x\r\n\r\n";

/** The two ways a request body is framed; both must stream (node pre-reads only small known lengths). */
const FRAMINGS = ["content-length", "chunked"] as const;
type Framing = (typeof FRAMINGS)[number];

/** Request head for a streamed upload of `length` bytes. */
function uploadHead(framing: Framing, length: number): string {
  const framingHeader = framing === "chunked" ? "Transfer-Encoding: chunked" : `Content-Length: ${length}`;
  return `POST /upload HTTP/1.1\r\nHost: x\r\n${framingHeader}\r\n\r\n`;
}

/** `data` as it goes on the wire: one chunk frame when chunked, as is otherwise. */
function frame(framing: Framing, data: Buffer): Buffer {
  if (framing !== "chunked") return data;
  return Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`, "latin1"), data, Buffer.from("\r\n", "latin1")]);
}

/** Writes, honouring the socket's backpressure (so the server's pausing is what limits the pace). */
async function writeAll(socket: Socket, data: Buffer): Promise<void> {
  if (socket.write(data)) return;
  await new Promise<void>((resolve, reject) => {
    const onDrain = (): void => {
      socket.removeListener("close", onClose);
      resolve();
    };
    const onClose = (): void => {
      socket.removeListener("drain", onDrain);
      reject(new Error("connection closed while uploading"));
    };
    socket.once("drain", onDrain);
    socket.once("close", onClose);
  });
}

/** Resolves once the client side of `socket` has fully closed. */
function closedPromise(socket: Socket): Promise<void> {
  return new Promise((resolve) => socket.once("close", () => resolve()));
}

/** The messages of the error-level entries (an app that stops on a disconnect must log none). */
function errorsLogged(entries: LogEntry[]): string[] {
  return entries.filter((e) => e.level === "error").map((e) => e.msg ?? String((e.obj.err as Error | undefined)?.message));
}

/** `app`, except that {@link GOOD_REQUEST}'s path is answered 200 "ok" (for {@link stillServing}). */
function withHealthCheck(app: App): App {
  return async (scope, receive, send) => {
    if (scope.type !== "http" || scope.path !== "/still-serving") return app(scope, receive, send);
    await send({ type: "http.response.start", status: 200, headers: [] });
    await send({ type: "http.response.body", body: "ok" });
  };
}

/** Asserts that a fresh connection still gets an answer (apps wrapped in {@link withHealthCheck}). */
async function stillServing(t: Test, port: number): Promise<void> {
  const again = await rawRequest(port, GOOD_REQUEST, { responses: 1 });
  t.same([again.responses[0]?.status, again.responses[0]?.body], [200, "ok"], "the server still answers a fresh connection");
}

/** An app that streams `chunks` under a declared `content-length: declared`, recording what send() did. */
function sizedStreamApp(declared: number, chunks: string[], outcome: { errors: unknown[] }): App {
  return withHealthCheck(async (scope, _receive, send) => {
    if (scope.type !== "http") return;
    try {
      await send({ type: "http.response.start", status: 200, headers: [["content-type", "text/plain"], ["content-length", String(declared)]] });
      for (const chunk of chunks) await send({ type: "http.response.body", body: chunk, moreBody: true });
      await send({ type: "http.response.body", body: "", moreBody: false });
    } catch (error) {
      outcome.errors.push(error);
    }
  });
}

/** Adds the streaming cases to the suite. */
export function streamingCases({ name, test, start }: SuiteContext): void {
  for (const framing of FRAMINGS) {
    test(`${name}: client aborts mid-request-body (${framing}): receive() yields http.disconnect, later sends resolve, the server keeps serving`, async (t) => {
      const logger = capturingLogger();
      const firstChunk = deferred();
      const outcome = deferred<{ events: ReceiveEvent[]; again: string; sendErrors: unknown[] }>();
      const app: App = async (scope, receive, send) => {
        if (scope.type !== "http") return;
        const events: ReceiveEvent[] = [];
        for (;;) {
          const event = await receive();
          events.push(event);
          if (event.type === "http.request") firstChunk.resolve();
          if (event.type !== "http.request" || !event.moreBody) break;
        }
        // ASGI: after the disconnect, receive() keeps saying so, and sends are no-ops that resolve.
        const again = (await receive()).type;
        const sendErrors: unknown[] = [];
        await send({ type: "http.response.start", status: 200, headers: [] }).catch((err: unknown) => sendErrors.push(err));
        await send({ type: "http.response.body", body: "nobody hears this" }).catch((err: unknown) => sendErrors.push(err));
        outcome.resolve({ events, again, sendErrors });
      };
      const { port } = await start(t, withHealthCheck(app), { logger, maxBodySize: 4 * MiB });
      const socket = await openSocket(port);
      socket.on("error", () => {});
      socket.write(uploadHead(framing, 2 * MiB));
      socket.write(frame(framing, randomBytes(192 * KiB)));
      await guarded(firstChunk.promise, "the app's first body chunk");
      socket.destroy();
      const { events, again, sendErrors } = await guarded(outcome.promise, "the app's receive() after the client left");
      const last = events[events.length - 1];
      t.equal(last?.type, "http.disconnect", "the app's last receive() yields http.disconnect");
      t.ok(
        events.slice(0, -1).every((e) => e.type === "http.request" && e.moreBody),
        "before it, only body chunks with moreBody: true (no made-up end of body)",
      );
      t.equal(again, "http.disconnect", "receive() after the disconnect yields http.disconnect again");
      t.same(sendErrors, [], "sends after the disconnect resolve");
      t.same(errorsLogged(logger.entries), [], "an app that stops on a disconnect is not an error");
      await stillServing(t, port);
    });
  }

  test(`${name}: a streamed body with a declared content-length goes out with it, not chunked, and the connection is reused`, async (t) => {
    const outcome = { errors: [] as unknown[] };
    const chunks = ["first part, ", "second part, ", "x".repeat(100 * KiB)];
    const total = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    const { port } = await start(t, sizedStreamApp(total, chunks, outcome));
    const result = await rawRequest(port, `GET /sized HTTP/1.1\r\nHost: x\r\n\r\n${GOOD_REQUEST}`, { responses: 2 });
    const [sized, next] = result.responses;
    t.equal(sized?.status, 200);
    t.equal(sized?.headers["content-length"], String(total));
    t.equal(sized?.headers["transfer-encoding"], undefined, "not chunked");
    t.equal(sized?.body, chunks.join(""));
    t.same([next?.status, next?.body], [200, "ok"], "the next response on the same connection is intact");
    t.same(outcome.errors, []);
  });

  test(`${name}: a streamed body with more bytes than declared: send() rejects, and no byte past the declared length reaches the client`, async (t) => {
    const outcome = { errors: [] as unknown[] };
    const { port } = await start(t, sizedStreamApp(10, ["0123456789", "and more"], outcome), { logger: capturingLogger() });
    // Two requests on one connection: node:http closes it; uWS has already ended the response at
    // its tenth byte and answers the next request. Either way, nothing mis-framed arrives.
    const result = await rawRequest(port, `GET /sized HTTP/1.1\r\nHost: x\r\n\r\n${GOOD_REQUEST}`, { responses: 2 });
    t.ok(result.responses.every((response) => response.body.length <= 10), "no response body past the declared length");
    if (result.responses.length === 2) t.same([result.responses[1]!.status, result.responses[1]!.body], [200, "ok"], "the next response is intact");
    else t.ok(result.closed, "or the connection was closed");
    t.equal(result.leftover.includes("and more"), false, "the extra bytes never went out");
    t.equal(outcome.errors.length, 1, "the app's send() rejected");
    t.match(outcome.errors[0], { name: "ProtocolError" });
    await stillServing(t, port);
  });

  test(`${name}: a streamed body that ends short of its declared length: send() rejects and the connection is closed`, async (t) => {
    const outcome = { errors: [] as unknown[] };
    const { port } = await start(t, sizedStreamApp(100, ["only ten.."], outcome), { logger: capturingLogger() });
    const result = await rawRequest(port, "GET /sized HTTP/1.1\r\nHost: x\r\n\r\n");
    t.ok(result.closed, "the server closed the connection (the client must not wait for 90 more bytes)");
    t.equal(result.responses.length, 0, "no complete response");
    t.equal(outcome.errors.length, 1, "the app's send() rejected");
    t.match(outcome.errors[0], { name: "ProtocolError" });
    await stillServing(t, port);
  });

  test(`${name}: client aborts while the app is not reading the body (connection paused): receive() still ends in http.disconnect`, async (t) => {
    const logger = capturingLogger();
    const firstChunk = deferred();
    const clientGone = deferred();
    const outcome = deferred<{ events: ReceiveEvent[]; bytes: number }>();
    const app: App = async (scope, receive) => {
      if (scope.type !== "http") return;
      const events: ReceiveEvent[] = [await receive()];
      firstChunk.resolve();
      // Not reading: the server's buffer fills and it stops reading the client's socket. The client
      // leaves meanwhile; what the server buffered may still come, but the end must be a disconnect.
      await clientGone.promise;
      for (;;) {
        const event = events[events.length - 1];
        if (event.type !== "http.request" || !event.moreBody) break;
        events.push(await receive());
      }
      const bytes = events.reduce((n, e) => n + (e.type === "http.request" ? e.body.length : 0), 0);
      outcome.resolve({ events, bytes });
    };
    const { port } = await start(t, withHealthCheck(app), { logger, maxBodySize: 8 * MiB });
    const socket = await openSocket(port);
    socket.on("error", () => {});
    const closed = closedPromise(socket);
    socket.write(uploadHead("content-length", 4 * MiB));
    socket.write(randomBytes(2 * MiB));
    await guarded(firstChunk.promise, "the app's first body chunk");
    socket.destroy();
    await closed;
    clientGone.resolve();
    const { events, bytes } = await guarded(outcome.promise, "the app's receive() after the client left");
    t.equal(events[events.length - 1]?.type, "http.disconnect", "the body ends in http.disconnect");
    t.ok(bytes < 4 * MiB, `fewer bytes than declared reached the app (${bytes})`);
    t.same(errorsLogged(logger.entries), []);
    await stillServing(t, port);
  });

  test(`${name}: client aborts mid-response: the blocked send() resolves, later sends resolve without throwing, the app finishes`, async (t) => {
    const logger = capturingLogger();
    const chunkSize = 64 * KiB;
    const chunks = 1024; // 64 MiB: far more than socket buffers hold, so the app is mid-stream when the client leaves
    let issued = 0;
    let inSend = false;
    const outcome = deferred<{ returned: number; sendErrors: unknown[]; disconnect: string }>();
    const app: App = async (scope, receive, send) => {
      if (scope.type !== "http") return;
      await receive(); // the (empty) body
      const disconnect = receive(); // settles when the client leaves (or the response completes)
      const sendErrors: unknown[] = [];
      let returned = 0;
      await send({ type: "http.response.start", status: 200, headers: [["content-type", "application/octet-stream"]] });
      const chunk = Buffer.alloc(chunkSize, 0x61);
      for (let i = 0; i < chunks; i++) {
        issued++;
        inSend = true;
        try {
          await send({ type: "http.response.body", body: chunk, moreBody: true });
        } catch (err) {
          sendErrors.push(err);
        }
        inSend = false;
        returned++;
      }
      await send({ type: "http.response.body", body: "" }).catch((err: unknown) => sendErrors.push(err));
      outcome.resolve({ returned, sendErrors, disconnect: (await disconnect).type });
    };
    const { port } = await start(t, withHealthCheck(app), { logger });
    const socket = await openSocket(port);
    const readingStopped = deferred();
    const response = readStreamedResponse(socket, {
      onBody: (bytes) => {
        if (bytes >= 256 * KiB && !socket.isPaused()) {
          socket.pause();
          readingStopped.resolve();
        }
      },
    });
    socket.write("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
    await guarded(readingStopped.promise, "the first 256 KiB of the response");
    // Leave only once the app is held inside `await send()`, so the abort has a pending send to settle.
    const before = await untilStable(() => issued, chunks, { holds: () => inSend });
    socket.destroy();
    const received = await response;
    t.ok(before < chunks, `the client left mid-response (after the app issued ${before} of ${chunks} chunks)`);
    t.notOk(received.complete, "the client did not get a complete response");
    const { returned, sendErrors, disconnect } = await guarded(outcome.promise, "the app after the client left");
    t.equal(returned, chunks, "every send() returned: the blocked one and all after it");
    t.same(sendErrors, [], "no send() threw into the app");
    t.equal(disconnect, "http.disconnect", "a receive() pending during the response yields http.disconnect");
    t.same(errorsLogged(logger.entries), [], "nothing logged as an error");
    await stillServing(t, port);
  });

  test(`${name}: a reader that stops reading holds the app back in await send(); resumed, it gets every byte`, async (t) => {
    const chunkSize = 64 * KiB;
    const chunks = 1024; // 64 MiB
    const total = chunkSize * chunks;
    let issuedBytes = 0;
    let inSend = false;
    const sentHash = createHash("sha256");
    const appDone = deferred<string>();
    const template = randomBytes(chunkSize);
    const app: App = async (scope, receive, send) => {
      if (scope.type !== "http") return;
      await receive();
      await send({ type: "http.response.start", status: 200, headers: [["content-type", "application/octet-stream"]] });
      for (let i = 0; i < chunks; i++) {
        // A fresh buffer per chunk (a server may hold it until flushed), stamped with its index so
        // that a lost, repeated or reordered chunk changes the hash.
        const chunk = Buffer.from(template);
        chunk.writeUInt32BE(i, 0);
        sentHash.update(chunk);
        issuedBytes += chunk.length;
        inSend = true;
        await send({ type: "http.response.body", body: chunk, moreBody: true });
        inSend = false;
      }
      await send({ type: "http.response.body", body: "" });
      appDone.resolve(sentHash.digest("hex"));
    };
    const { port } = await start(t, app);
    const socket = await openSocket(port);
    socket.pause(); // reads nothing until resumed
    const response = readStreamedResponse(socket, { guardMs: 45_000 });
    socket.write("GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
    const held = await untilStable(() => issuedBytes, total, { holds: () => inSend });
    t.ok(held > 0, "the app started sending");
    t.ok(
      held < 16 * MiB,
      `with the client reading nothing, the app is held in await send() after ${(held / MiB).toFixed(2)} MiB of ${total / MiB} MiB`,
    );
    socket.resume();
    const received = await response;
    t.equal(received.status, 200);
    t.ok(received.complete, "the response completed");
    t.equal(received.bodyBytes, total, "every byte arrived");
    t.equal(received.sha256, await guarded(appDone.promise, "the app"), "in order and intact (sha256 of what the app sent)");
  });

  test(`${name}: an app that stops reading the request body holds the client's upload back; resumed, every byte arrives`, async (t) => {
    const total = 96 * MiB;
    const piece = randomBytes(64 * KiB);
    const release = deferred();
    const firstChunk = deferred();
    const outcome = deferred<{ bytes: number; sha256: string }>();
    const app: App = async (scope, receive, send) => {
      if (scope.type !== "http") return;
      const hash = createHash("sha256");
      let bytes = 0;
      for (;;) {
        const event = await receive();
        if (event.type !== "http.request") break;
        hash.update(event.body);
        bytes += event.body.length;
        if (bytes === event.body.length) {
          firstChunk.resolve();
          await release.promise; // stops reading until the test has seen the upload stall
        }
        if (!event.moreBody) break;
      }
      outcome.resolve({ bytes, sha256: hash.digest("hex") });
      await send({ type: "http.response.start", status: 200, headers: [] });
      await send({ type: "http.response.body", body: String(bytes) });
    };
    const { port } = await start(t, app, { maxBodySize: 128 * MiB });
    t.teardown(() => release.resolve());
    const socket = await openSocket(port);
    const result = collectResponses(socket, { responses: 1, guardMs: 45_000 });
    const sentHash = createHash("sha256");
    let written = 0;
    const upload = (async () => {
      await writeAll(socket, Buffer.from(uploadHead("content-length", total), "latin1"));
      for (let i = 0; written < total; i++) {
        const chunk = Buffer.from(piece);
        chunk.writeUInt32BE(i, 0); // a lost, repeated or reordered piece changes the hash
        sentHash.update(chunk);
        await writeAll(socket, chunk);
        written += chunk.length;
      }
    })();
    await guarded(firstChunk.promise, "the app's first body chunk");
    const stalled = await untilStable(() => written, total);
    t.ok(
      stalled < 48 * MiB,
      `with the app not reading, the client's upload stalls after ${(stalled / MiB).toFixed(2)} MiB of ${total / MiB} MiB (kernel buffers, not the server's memory)`,
    );
    release.resolve();
    await guarded(upload, "the rest of the upload");
    const { bytes, sha256 } = await guarded(outcome.promise, "the app reading the rest");
    t.equal(bytes, total, "the app received every byte");
    t.equal(sha256, sentHash.digest("hex"), "in order and intact");
    const { responses } = await result;
    t.equal(responses[0]?.body, String(total));
  });

  test(`${name}: an app that streams a large response before reading a large request body: neither direction stalls`, async (t) => {
    const upload = randomBytes(4 * MiB);
    const chunks = 256; // 16 MiB, well past what socket buffers hold
    const chunk = randomBytes(64 * KiB);
    const outcome = deferred<{ bytes: number; sha256: string }>();
    const app: App = async (scope, receive, send) => {
      if (scope.type !== "http") return;
      // The response first: the unread body fills the server's queue, so it stops reading the
      // client, while the response needs the client to keep reading (and the server to keep writing).
      await send({ type: "http.response.start", status: 200, headers: [["content-type", "application/octet-stream"]] });
      for (let i = 0; i < chunks; i++) await send({ type: "http.response.body", body: chunk, moreBody: true });
      const hash = createHash("sha256");
      let bytes = 0;
      for (;;) {
        const event = await receive();
        if (event.type !== "http.request") break;
        hash.update(event.body);
        bytes += event.body.length;
        if (!event.moreBody) break;
      }
      outcome.resolve({ bytes, sha256: hash.digest("hex") });
      await send({ type: "http.response.body", body: "" });
    };
    const { port } = await start(t, app, { maxBodySize: 8 * MiB });
    const socket = await openSocket(port);
    socket.on("error", () => {});
    const response = readStreamedResponse(socket);
    await writeAll(socket, Buffer.from(uploadHead("content-length", upload.length), "latin1"));
    const uploaded = writeAll(socket, upload).catch((err: unknown) => err);
    const received = await response;
    t.ok(received.complete, `the response completed (${received.bodyBytes} of ${chunks * chunk.length} bytes arrived)`);
    t.equal(received.bodyBytes, chunks * chunk.length);
    t.equal(await uploaded, undefined, "the upload went through");
    const { bytes, sha256 } = await guarded(outcome.promise, "the app reading the body");
    t.equal(bytes, upload.length, "then the app read the whole body");
    t.equal(sha256, createHash("sha256").update(upload).digest("hex"), "in order and intact");
  });

  for (const framing of FRAMINGS) {
    test(`${name}: a large request body (${framing}) read slowly by the app arrives whole and in order`, async (t) => {
      const size = 8 * MiB;
      const piece = 64 * KiB;
      const app: App = async (scope, receive, send) => {
        if (scope.type !== "http") return;
        const hash = createHash("sha256");
        let bytes = 0;
        let events = 0;
        let endedEarly = false;
        for (;;) {
          // A slow consumer: a timer turn between reads, so the server has to queue and pause.
          await new Promise((resolve) => setTimeout(resolve, 1));
          const event = await receive();
          if (event.type !== "http.request") {
            endedEarly = true;
            break;
          }
          events++;
          hash.update(event.body);
          bytes += event.body.length;
          if (!event.moreBody) break;
        }
        await send({ type: "http.response.start", status: 200, headers: [["content-type", "application/json"]] });
        await send({ type: "http.response.body", body: JSON.stringify({ bytes, events, endedEarly, sha256: hash.digest("hex") }) });
      };
      const { port } = await start(t, app, { maxBodySize: 16 * MiB });
      const body = randomBytes(size);
      const socket = await openSocket(port);
      const result = collectResponses(socket, { responses: 1, guardMs: 45_000 });
      await writeAll(socket, Buffer.from(uploadHead(framing, size), "latin1"));
      for (let offset = 0; offset < size; offset += piece) {
        await writeAll(socket, frame(framing, body.subarray(offset, offset + piece)));
      }
      if (framing === "chunked") await writeAll(socket, Buffer.from("0\r\n\r\n", "latin1"));
      const { responses } = await result;
      t.equal(responses[0]?.status, 200);
      const seen = JSON.parse(responses[0]?.body ?? "{}") as { bytes: number; events: number; endedEarly: boolean; sha256: string };
      t.equal(seen.endedEarly, false, "no disconnect");
      t.equal(seen.bytes, size, "the app received every byte");
      t.equal(seen.sha256, createHash("sha256").update(body).digest("hex"), "in order and intact");
      t.ok(seen.events > 1, `streamed in several receive() events (${seen.events}), not buffered whole`);
    });
  }
}
