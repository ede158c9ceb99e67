/**
 * Http2Server against the connection-server conformance cases that apply to HTTP/2, each sent by
 * an HTTP/2 client (node:http2's `connect` for h2c, undici with `allowH2` and curl for h2 over TLS
 * in test/layers/server/http2-server.test.ts).
 *
 * The shared suite (server-conformance.ts) is not run as such: it writes raw HTTP/1.1 bytes. What
 * it checks that has no HTTP/2 meaning is left out, with the reason:
 * - the request corpus (malformed request lines, obs-fold, smuggling via Content-Length +
 *   Transfer-Encoding, …): HTTP/2 has no text framing; nghttp2 rejects malformed frames and
 *   pseudo-headers before a stream exists;
 * - reason phrases, keep-alive reuse, pipelining order, HTTP/1.0, bytes past Content-Length as a
 *   next request, garbage behind a response: HTTP/1.1 connection management; HTTP/2 multiplexes
 *   (covered in http2-server.test.ts);
 * - "a stream ending short of its declared length closes the connection": here the stream is reset,
 *   the connection stays (checked below).
 * The HTTP/1.1 fallback on TLS is node:http's machinery with the node:http adapter, which the
 * shared suite covers through NodeHttpServer.
 */
import t from "tap";
import type { Test } from "tap";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { constants } from "node:http2";
import type { App, HttpScope, ReceiveEvent, Send } from "../../../layers/adapter/events.js";
import { SENT } from "../../../layers/adapter/events.js";
import type { ListenOptions, ListeningAddress } from "../../../layers/server/connection-server.js";
import { Http2Server } from "../../../layers/server/http2-server.js";
import { silentLogger } from "../../../lib/logger.js";
import { capturingLogger, deferred, echoApp, readBody } from "./test-apps.js";
import { h2connect, h2get, h2request, sessionClosed } from "./http2-client.js";

t.setTimeout(50_000);

async function start(t: Test, app: App, options: ListenOptions = {}): Promise<{ server: Http2Server } & ListeningAddress> {
  const server = new Http2Server({ logger: silentLogger });
  const address = await server.listen(app, { host: "127.0.0.1", port: 0, logger: silentLogger, ...options });
  t.teardown(() => server.close({ timeout: 0 }));
  return { server, ...address };
}

t.test("the scope describes the request: version 2, pseudo-headers mapped, :authority as host, cookies joined", async (t) => {
  const { url, port } = await start(t, echoApp, { state: { shared: 1 } });
  const session = await h2connect(url);
  t.teardown(() => session.close());
  const res = await h2request(
    session,
    { ":method": "POST", ":path": "/a%20b/c?x=1&y=2", "x-echo": "one", cookie: "a=1" },
    "hello",
  );
  t.equal(res.status, 200);
  const scope = JSON.parse(res.body.toString());
  t.equal(scope.method, "POST");
  t.equal(scope.path, "/a b/c", "decoded path");
  t.equal(scope.rawPath, "/a%20b/c", "raw path");
  t.equal(scope.queryString, "x=1&y=2");
  t.equal(scope.httpVersion, "2");
  t.equal(scope.scheme, "http", "h2c is http");
  t.equal(scope.body, "hello");
  t.equal(scope.echo, "one");
  t.same(scope.headers[0], ["host", `127.0.0.1:${port}`], ":authority becomes the host header, first");
  t.notOk(scope.headers.some(([name]: [string]) => name.startsWith(":")), "no pseudo-header in the list");
  t.same(scope.client[0], "127.0.0.1");
  t.same(scope.server, ["127.0.0.1", port]);
  t.same(scope.state, { shared: 1 });

  // RFC 9113 §8.2.3: a client may split cookies into several fields; the app sees one.
  const split = await h2request(session, { ":path": "/", cookie: ["a=1", "b=2"] });
  const headers = JSON.parse(split.body.toString()).headers as Array<[string, string]>;
  t.same(headers.filter(([name]) => name === "cookie"), [["cookie", "a=1; b=2"]]);
});

t.test("scope.state is a fresh shallow copy per request", async (t) => {
  const pool = { id: "pool" };
  const app: App = async (scope, _receive, send) => {
    const s = scope as HttpScope;
    const before = s.state.counter;
    s.state.counter = 99;
    await send({ type: "http.response.start", status: 200, headers: [] });
    await send({ type: "http.response.body", body: JSON.stringify({ before, samePool: s.state.pool === pool }) });
  };
  const { url } = await start(t, app, { state: { counter: 1, pool } });
  const session = await h2connect(url);
  t.teardown(() => session.close());
  for (let i = 0; i < 2; i++) {
    const res = await h2request(session, {});
    t.same(JSON.parse(res.body.toString()), { before: 1, samePool: true });
  }
});

t.test("response framing: content-length, HEAD, 204, streamed bodies, repeated headers, connection headers dropped", async (t) => {
  const app: App = async (scope, _receive, send) => {
    const s = scope as HttpScope;
    if (s.path === "/whole") {
      await send({ type: "http.response.start", status: 200, headers: [["content-type", "text/plain"], ["set-cookie", "a=1"], ["set-cookie", "b=2"]] });
      await send({ type: "http.response.body", body: "héllo" });
    } else if (s.path === "/empty") {
      await send({ type: "http.response.start", status: 204, headers: [] });
      await send({ type: "http.response.body", body: "dropped" });
    } else if (s.path === "/stream") {
      await send({ type: "http.response.start", status: 200, headers: [["Transfer-Encoding", "chunked"], ["connection", "keep-alive"], ["X-Mixed", "v"]] });
      for (let i = 0; i < 3; i++) await send({ type: "http.response.body", body: `part${i};`, moreBody: true });
      await send({ type: "http.response.body", body: "", moreBody: false });
    }
  };
  const { url } = await start(t, app);
  const session = await h2connect(url);
  t.teardown(() => session.close());

  const whole = await h2request(session, { ":path": "/whole" });
  t.equal(whole.status, 200);
  t.equal(whole.headers["content-length"], String(Buffer.byteLength("héllo")), "computed content-length");
  t.same(whole.headers["set-cookie"], ["a=1", "b=2"], "repeated header: one field each");
  t.equal(whole.body.toString(), "héllo");

  const head = await h2request(session, { ":path": "/whole", ":method": "HEAD" });
  t.equal(head.status, 200);
  t.equal(head.headers["content-length"], String(Buffer.byteLength("héllo")), "HEAD: the GET's length");
  t.equal(head.body.length, 0, "HEAD: no body");
  t.equal(head.rstCode, 0);

  const empty = await h2request(session, { ":path": "/empty" });
  t.equal(empty.status, 204);
  t.equal(empty.headers["content-length"], undefined, "no content-length on 204");
  t.equal(empty.body.length, 0);

  const streamed = await h2request(session, { ":path": "/stream" });
  t.equal(streamed.status, 200);
  t.equal(streamed.body.toString(), "part0;part1;part2;");
  t.equal(streamed.headers["transfer-encoding"], undefined, "transfer-encoding dropped (RFC 9113 §8.2.2)");
  t.equal(streamed.headers.connection, undefined, "connection dropped");
  t.equal(streamed.headers["x-mixed"], "v", "names lower-cased");
  t.equal(streamed.rstCode, 0);
});

t.test("an app that throws gets a 500 without details; after the start its stream is reset; the connection keeps serving", async (t) => {
  const logger = capturingLogger();
  const app: App = async (scope, _receive, send) => {
    const s = scope as HttpScope;
    if (s.path === "/before") throw new Error("secret detail");
    if (s.path === "/after") {
      await send({ type: "http.response.start", status: 200, headers: [] });
      await send({ type: "http.response.body", body: "partial", moreBody: true });
      throw new Error("late failure");
    }
    if (s.path === "/unfinished") {
      await send({ type: "http.response.start", status: 200, headers: [] });
      return;
    }
    await send({ type: "http.response.start", status: 200, headers: [] });
    await send({ type: "http.response.body", body: "ok" });
  };
  const { url } = await start(t, app, { logger });
  const session = await h2connect(url);
  t.teardown(() => session.close());
  const before = await h2request(session, { ":path": "/before" });
  t.equal(before.status, 500);
  t.same(JSON.parse(before.body.toString()), { detail: "Internal Server Error" });
  t.notMatch(before.body.toString(), /secret/);
  const after = await h2request(session, { ":path": "/after" });
  t.equal(after.status, 200);
  t.equal(after.rstCode, constants.NGHTTP2_INTERNAL_ERROR, "started response: the stream is reset, not ended");
  const unfinished = await h2request(session, { ":path": "/unfinished" });
  t.equal(unfinished.rstCode, constants.NGHTTP2_INTERNAL_ERROR, "returned without finishing: reset");
  const ok = await h2request(session, { ":path": "/ok" });
  t.equal(ok.status, 200, "same connection still serves");
  t.equal(ok.body.toString(), "ok");
  t.ok(logger.entries.some((e) => e.level === "error" && e.msg === "app failed"));
});

t.test("requests that never reach the app: 400 malformed path, 400 host mismatch, 414, 413 by content-length, 501 CONNECT", async (t) => {
  let calls = 0;
  const app: App = async (scope, receive, send) => {
    calls++;
    await echoApp(scope, receive, send);
  };
  const { url } = await start(t, app, { maxUrlLength: 100, maxBodySize: 10 });
  const session = await h2connect(url);
  t.teardown(() => session.close());
  const malformed = await h2request(session, { ":path": "/a%zz" });
  t.equal(malformed.status, 400);
  t.match(JSON.parse(malformed.body.toString()).detail, /percent-encoding/);
  const mismatch = await h2request(session, { ":path": "/", ":authority": "here.example", host: "elsewhere.example" });
  t.equal(mismatch.status, 400, "RFC 9113 §8.3.1: Host naming another authority");
  const long = await h2request(session, { ":path": `/${"a".repeat(200)}` });
  t.equal(long.status, 414);
  const big = await h2request(session, { ":method": "POST", ":path": "/", "content-length": "11" }, "01234567890");
  t.equal(big.status, 413);
  const connect = await h2request(session, { ":method": "CONNECT", ":authority": "example.com:443", ":path": undefined as unknown as string, ":scheme": undefined as unknown as string });
  t.equal(connect.status, 501);
  t.equal(calls, 0, "the app never ran");
  const ok = await h2request(session, { ":path": "/fine" });
  t.equal(ok.status, 200);
  t.equal(calls, 1);
});

t.test("app misuse: an invalid response header is a ProtocolError (then a 500 is still possible); two receive() at once are refused", async (t) => {
  const errors = deferred<string[]>();
  const app: App = async (scope, receive, send) => {
    const path = (scope as HttpScope).path;
    if (path === "/header") {
      const messages: string[] = [];
      await send({ type: "http.response.start", status: 200, headers: [["bad header", "x"]] });
      await send({ type: "http.response.body", body: "never" }).catch((err: Error) => messages.push(err.message));
      await send({ type: "http.response.start", status: 500, headers: [] }).catch((err: Error) => messages.push(err.message));
      errors.resolve(messages);
      await send({ type: "http.response.body", body: "fallback" });
      return;
    }
    const first = receive();
    const second = await receive().then(
      () => "resolved",
      (err: Error) => err.message,
    );
    await first;
    await send({ type: "http.response.start", status: 200, headers: [] });
    await send({ type: "http.response.body", body: second });
  };
  const { url } = await start(t, app, { logger: silentLogger });
  const session = await h2connect(url);
  t.teardown(() => session.close());
  const header = await h2request(session, { ":path": "/header" });
  const messages = await errors.promise;
  t.match(messages[0], /valid response header names and values/);
  t.equal(messages.length, 1, "after the rejected head the response is idle again: a new start is accepted");
  t.equal(header.status, 500);
  t.equal(header.body.toString(), "fallback");
  // A streamed body (no content-length, not pre-read), so the first receive() is still pending.
  const stream = session.request({ ":method": "POST", ":path": "/twice" });
  const chunks: Buffer[] = [];
  stream.on("data", (c: Buffer) => chunks.push(c));
  const ended = new Promise((resolve) => stream.on("end", resolve));
  setImmediate(() => stream.end("body"));
  await ended;
  t.match(Buffer.concat(chunks).toString(), /one receive\(\) at a time/);
});

t.test("a body larger than maxBodySize, streamed without content-length, gives 413 while streaming", async (t) => {
  const seen = deferred<string>();
  const app: App = async (_scope, receive, send) => {
    try {
      await readBody(receive);
      seen.resolve("read all");
    } catch (err) {
      seen.resolve((err as Error).name);
      throw err;
    }
    await send({ type: "http.response.start", status: 200, headers: [] });
    await send({ type: "http.response.body", body: "ok" });
  };
  const { url } = await start(t, app, { maxBodySize: 1000 });
  const session = await h2connect(url);
  t.teardown(() => session.close());
  const stream = session.request({ ":method": "POST", ":path": "/" });
  let status = 0;
  stream.on("response", (h) => (status = Number(h[":status"])));
  stream.on("error", () => {});
  stream.resume();
  stream.write(Buffer.alloc(600));
  stream.write(Buffer.alloc(600));
  await new Promise((resolve) => stream.on("close", resolve));
  t.equal(status, 413);
  t.equal(await seen.promise, "BodyTooLargeError", "receive() rejected");
  const ok = await h2request(session, { ":method": "POST" }, "small");
  t.equal(ok.status, 200, "the connection still serves");
});

t.test("client resets mid-request-body: receive() yields http.disconnect, later sends resolve, other streams unaffected", async (t) => {
  const events = deferred<Array<string>>();
  const firstChunk = deferred<void>();
  const app: App = async (scope, receive, send) => {
    if ((scope as HttpScope).path === "/other") {
      await send({ type: "http.response.start", status: 200, headers: [] });
      await send({ type: "http.response.body", body: "other" });
      return;
    }
    const seen: string[] = [];
    for (;;) {
      const event: ReceiveEvent = await receive();
      seen.push(event.type === "http.request" ? `chunk:${event.body.length}:${event.moreBody}` : event.type);
      if (event.type === "http.request") firstChunk.resolve();
      if (event.type !== "http.request" || !event.moreBody) break;
    }
    await send({ type: "http.response.start", status: 200, headers: [] });
    await send({ type: "http.response.body", body: "late" });
    events.resolve(seen);
  };
  const { url } = await start(t, app);
  const session = await h2connect(url);
  t.teardown(() => session.close());
  const stream = session.request({ ":method": "POST", ":path": "/" });
  stream.on("error", () => {});
  stream.write("abc");
  await firstChunk.promise;
  stream.close(constants.NGHTTP2_CANCEL);
  const seen = await events.promise;
  t.same(seen, ["chunk:3:true", "http.disconnect"], "the truncated body is a disconnect, not a complete body");
  const other = await h2request(session, { ":path": "/other" });
  t.equal(other.body.toString(), "other");
});

t.test("request bodies: with a content-length the chunk completing it is final; without, an empty final event follows END_STREAM", async (t) => {
  const cutSeen = deferred<string[]>();
  const app: App = async (scope, receive, send) => {
    const events: string[] = [];
    for (;;) {
      const event = await receive();
      events.push(event.type === "http.request" ? `${event.body.length}:${event.moreBody}` : event.type);
      if (event.type !== "http.request" || !event.moreBody) break;
    }
    if ((scope as HttpScope).path === "/cut") cutSeen.resolve(events);
    await send({ type: "http.response.start", status: 200, headers: [] });
    await send({ type: "http.response.body", body: JSON.stringify(events) });
  };
  const { url } = await start(t, app);
  const session = await h2connect(url);
  t.teardown(() => session.close());
  const declared = await h2request(session, { ":method": "POST", "content-length": "5" }, "hello");
  t.same(JSON.parse(declared.body.toString()), ["5:false"]);
  const undeclared = await h2request(session, { ":method": "POST" }, "hello");
  t.same(JSON.parse(undeclared.body.toString()), ["5:true", "0:false"]);

  // Declared 100 000 (past the 64 KiB pre-read, so it streams), 5 sent, then a reset: never a
  // complete-looking body.
  const cut = session.request({ ":method": "POST", ":path": "/cut", "content-length": "100000" });
  cut.on("error", () => {});
  cut.write("hello", () => setImmediate(() => cut.close(constants.NGHTTP2_CANCEL)));
  await new Promise((resolve) => cut.on("close", resolve));
  t.same(await cutSeen.promise, ["5:true", "http.disconnect"], "the cut body ends in a disconnect");
  const after = await h2request(session, { ":method": "POST", "content-length": "2" }, "ok");
  t.same(JSON.parse(after.body.toString()), ["2:false"], "the connection goes on");
});

t.test("a small declared body is read before the app runs; cut off or too slow, the app never runs", async (t) => {
  const calls: string[] = [];
  const app: App = async (scope, receive, send) => {
    calls.push((scope as HttpScope).path);
    await echoApp(scope, receive, send);
  };
  const { url } = await start(t, app, { requestTimeout: 200 });
  const session = await h2connect(url);
  t.teardown(() => session.close());
  const whole = await h2request(session, { ":method": "POST", ":path": "/whole", "content-length": "5" }, "hello");
  t.equal(JSON.parse(whole.body.toString()).body, "hello");

  const cut = session.request({ ":method": "POST", ":path": "/cut", "content-length": "10" });
  cut.on("error", () => {});
  cut.write("hello", () => setImmediate(() => cut.close(constants.NGHTTP2_CANCEL)));
  await new Promise((resolve) => cut.on("close", resolve));

  const slow = session.request({ ":method": "POST", ":path": "/slow", "content-length": "10" });
  slow.on("error", () => {});
  let status = 0;
  slow.on("response", (h) => (status = Number(h[":status"])));
  slow.resume();
  slow.write("abc");
  await new Promise((resolve) => slow.on("close", resolve));
  t.equal(status, 408, "not complete within requestTimeout");

  const after = await h2request(session, { ":method": "POST", ":path": "/after", "content-length": "2" }, "ok");
  t.equal(after.status, 200);
  t.same(calls, ["/whole", "/after"], "neither the cut nor the slow request reached the app");
});

t.test("a request body not complete within requestTimeout: 408, and the app's receive() yields http.disconnect", async (t) => {
  const seen = deferred<string[]>();
  const app: App = async (_scope, receive, send) => {
    const events: string[] = [];
    for (;;) {
      const event = await receive();
      events.push(event.type === "http.request" ? `chunk:${event.moreBody}` : event.type);
      if (event.type !== "http.request" || !event.moreBody) break;
    }
    seen.resolve(events);
    await send({ type: "http.response.start", status: 200, headers: [] });
    await send({ type: "http.response.body", body: "too late" });
  };
  const { url } = await start(t, app, { requestTimeout: 100 });
  const session = await h2connect(url);
  t.teardown(() => session.close());
  const stream = session.request({ ":method": "POST", ":path": "/" });
  stream.on("error", () => {});
  let status = 0;
  stream.on("response", (h) => (status = Number(h[":status"])));
  stream.resume();
  stream.write("abc"); // and never the rest: the stream stays open
  await new Promise((resolve) => stream.on("close", resolve));
  t.equal(status, 408);
  t.same(await seen.promise, ["chunk:true", "http.disconnect"]);
  const ok = await h2request(session, { ":method": "POST" }, "whole");
  t.equal(ok.status, 200, "a complete body on the same connection is served");
});

t.test("client resets mid-response: the blocked send() resolves, later sends resolve, the app finishes", async (t) => {
  const finished = deferred<string>();
  const blocked = deferred<void>();
  const app: App = async (_scope, receive, send) => {
    await send({ type: "http.response.start", status: 200, headers: [] });
    const chunk = Buffer.alloc(64 * 1024);
    for (let i = 0; i < 200; i++) {
      const p = send({ type: "http.response.body", body: chunk, moreBody: true });
      if (p !== SENT) blocked.resolve();
      await p;
    }
    await send({ type: "http.response.body", body: "end" });
    finished.resolve((await receive()).type);
  };
  const { url } = await start(t, app);
  const session = await h2connect(url);
  t.teardown(() => session.close());
  const stream = session.request({ ":path": "/" });
  stream.on("error", () => {});
  stream.pause();
  await blocked.promise;
  stream.close(constants.NGHTTP2_CANCEL);
  t.equal(await finished.promise, "http.disconnect");
});

t.test("backpressure: a reader that stops reading holds the app in await send(); resumed, it gets every byte", async (t) => {
  const total = 64;
  const chunkSize = 64 * 1024;
  let sent = 0;
  const blocked = deferred<void>();
  const app: App = async (_scope, _receive, send) => {
    await send({ type: "http.response.start", status: 200, headers: [] });
    for (let i = 0; i < total; i++) {
      const p = send({ type: "http.response.body", body: Buffer.alloc(chunkSize, i), moreBody: true });
      if (p !== SENT) blocked.resolve();
      await p;
      sent++;
    }
    await send({ type: "http.response.body", body: "" });
  };
  const { url } = await start(t, app);
  const session = await h2connect(url);
  t.teardown(() => session.close());
  const stream = session.request({ ":path": "/" });
  stream.pause();
  await blocked.promise;
  t.ok(sent < total, `the app is held back (${sent} of ${total} chunks sent)`);
  const chunks: Buffer[] = [];
  stream.on("data", (c: Buffer) => chunks.push(c));
  stream.resume();
  await new Promise((resolve) => stream.on("end", resolve));
  const body = Buffer.concat(chunks);
  t.equal(body.length, total * chunkSize, "every byte");
  t.equal(body[body.length - 1], total - 1, "in order");
});

t.test("a streamed body with more bytes than declared: send() rejects and the stream is reset", async (t) => {
  const rejected = deferred<string>();
  const app: App = async (_scope, _receive, send: Send) => {
    await send({ type: "http.response.start", status: 200, headers: [["content-length", "4"]] });
    await send({ type: "http.response.body", body: "ab", moreBody: true });
    await send({ type: "http.response.body", body: "cdef", moreBody: true }).then(
      () => rejected.resolve("resolved"),
      (err: Error) => rejected.resolve(err.message),
    );
  };
  const { url } = await start(t, app);
  const res = await h2get(url, "/");
  t.match(await rejected.promise, /declared content-length/);
  t.not(res.rstCode, 0, "reset");
  t.ok(res.body.length <= 4, "no byte past the declared length");
});

t.test("graceful close: an in-flight stream finishes, the client gets GOAWAY, new connections are refused", async (t) => {
  const release = deferred<void>();
  const started = deferred<void>();
  const app: App = async (_scope, _receive, send) => {
    started.resolve();
    await release.promise;
    await send({ type: "http.response.start", status: 200, headers: [] });
    await send({ type: "http.response.body", body: "finished" });
  };
  const server = new Http2Server({ logger: silentLogger });
  const { url } = await server.listen(app, { host: "127.0.0.1", port: 0 });
  const session = await h2connect(url);
  const goaway = new Promise<number>((resolve) => session.once("goaway", (code: number) => resolve(code)));
  const inFlight = h2request(session, { ":path": "/" });
  await started.promise;
  const closed = server.close({ timeout: 10_000 });
  t.equal(await goaway, constants.NGHTTP2_NO_ERROR, "GOAWAY(NO_ERROR)");
  release.resolve();
  const res = await inFlight;
  t.equal(res.body.toString(), "finished");
  await closed;
  await sessionClosed(session);
  await t.rejects(h2connect(url), "refused after close");
});

t.test("a stream still running after the close timeout has its connection destroyed", async (t) => {
  const started = deferred<void>();
  const app: App = async () => {
    started.resolve();
    await new Promise(() => {});
  };
  const server = new Http2Server({ logger: silentLogger });
  const { url } = await server.listen(app, { host: "127.0.0.1", port: 0 });
  const session = await h2connect(url);
  const res = h2request(session, { ":path": "/" });
  await started.promise;
  await server.close({ timeout: 50 });
  await sessionClosed(session);
  t.equal((await res).status, 0, "no response");
});

t.test("an idle connection is closed after keepAliveTimeout (GOAWAY)", async (t) => {
  const { url } = await start(t, echoApp, { keepAliveTimeout: 100 });
  const session = await h2connect(url);
  const ok = await h2request(session, {});
  t.equal(ok.status, 200);
  const goaway = new Promise<number>((resolve) => session.once("goaway", (code: number) => resolve(code)));
  t.equal(await goaway, constants.NGHTTP2_NO_ERROR);
  await sessionClosed(session);
});

t.test("a connection with a stream open is not idle: no GOAWAY while a response takes longer than keepAliveTimeout", async (t) => {
  const app: App = async (_scope, _receive, send) => {
    await new Promise((resolve) => setTimeout(resolve, 250)); // five idle timeouts
    await send({ type: "http.response.start", status: 200, headers: [] });
    await send({ type: "http.response.body", body: "late" });
  };
  const { url } = await start(t, app, { keepAliveTimeout: 50 });
  const session = await h2connect(url);
  t.teardown(() => session.close());
  let goawayBeforeResponse = false;
  let answered = false;
  session.once("goaway", () => (goawayBeforeResponse = !answered));
  const res = await h2request(session, {});
  answered = true;
  t.equal(res.body.toString(), "late");
  t.notOk(goawayBeforeResponse, "no GOAWAY while the stream was open");
});

t.test("close() before listen() and twice is harmless", async (t) => {
  const server = new Http2Server({ logger: silentLogger });
  await server.close();
  await server.listen(echoApp, { host: "127.0.0.1", port: 0 });
  await Promise.all([server.close({ timeout: 0 }), server.close({ timeout: 0 })]);
  t.pass();
});

t.test("listen rejects when the port is taken", async (t) => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
  t.teardown(() => blocker.close());
  const server = new Http2Server({ logger: silentLogger });
  await t.rejects(server.listen(echoApp, { host: "127.0.0.1", port: (blocker.address() as AddressInfo).port }), { code: "EADDRINUSE" });
});

t.test("IPv6 ::1", async (t) => {
  const server = new Http2Server({ logger: silentLogger });
  let address: ListeningAddress;
  try {
    address = await server.listen(echoApp, { host: "::1", port: 0 });
  } catch (err) {
    t.comment(`skipped: no IPv6 loopback here: ${(err as Error).message}`);
    return;
  }
  t.teardown(() => server.close({ timeout: 0 }));
  t.match(address.url, /^http:\/\/\[::1\]:\d+$/);
  const res = await h2get(address.url, "/v6");
  t.equal(JSON.parse(res.body.toString()).client[0], "::1");
});
