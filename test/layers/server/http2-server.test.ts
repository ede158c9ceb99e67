/**
 * What is particular to the HTTP/2 server: multiplexing, per-stream resets, GOAWAY, ALPN with the
 * HTTP/1.1 fallback (undici and curl as clients), the limits nghttp2 enforces, abuse (rapid reset,
 * PING and SETTINGS floods sent as raw frames: the connection is closed, the server goes on), and
 * a bounded h2load run when h2load is installed. The conformance cases are in
 * test/conformance/server/http2.test.ts.
 */
import t from "tap";
import type { Test } from "tap";
import { execFile, execFileSync } from "node:child_process";
import { connect } from "node:net";
import { promisify } from "node:util";
import { constants } from "node:http2";
import { Agent, request } from "undici";
import { WebSocket } from "ws";
import { App as LaminarApp } from "../../../lib/app.js";
import type { App, HttpScope } from "../../../layers/adapter/events.js";
import type { ListenOptions, ListeningAddress } from "../../../layers/server/connection-server.js";
import { Http2Server, type Http2ServerOptions } from "../../../layers/server/http2-server.js";
import { silentLogger } from "../../../lib/logger.js";
import { capturingLogger, deferred, echoApp } from "../../conformance/server/test-apps.js";
import { h2connect, h2get, h2request } from "../../conformance/server/http2-client.js";
import { FRAME, frame, getHeaderBlock, goawayCode, literal, parseFrames, rawH2 } from "./h2-frames.js";
import { makeTestCertificate } from "../../fixtures/test-certificate.js";

const run = promisify(execFile);
t.setTimeout(50_000);

/** A reason to skip, or false when `command` runs here. */
function missing(command: string, args: string[], why: string): string | false {
  try {
    execFileSync(command, args, { stdio: "ignore" });
    return false;
  } catch {
    return why;
  }
}
const noCurl = missing("curl", ["--version"], "curl not installed");
const noH2load = missing("h2load", ["--version"], "h2load not installed (Debian package nghttp2-client)");
const material = makeTestCertificate(t.testdir());

async function start(t: Test, app: App, options: ListenOptions = {}, serverOptions: Http2ServerOptions = {}): Promise<ListeningAddress> {
  const server = new Http2Server({ logger: silentLogger, ...serverOptions });
  const address = await server.listen(app, { host: "127.0.0.1", port: 0, logger: silentLogger, ...options });
  t.teardown(() => server.close({ timeout: 0 }));
  return address;
}

t.test("multiplexing: a slow stream does not hold back another on the same connection", async (t) => {
  const release = deferred<void>();
  const app: App = async (scope, _receive, send) => {
    if ((scope as HttpScope).path === "/slow") await release.promise;
    await send({ type: "http.response.start", status: 200, headers: [] });
    await send({ type: "http.response.body", body: (scope as HttpScope).path });
  };
  const { url } = await start(t, app);
  const session = await h2connect(url);
  t.teardown(() => session.close());
  let slowDone = false;
  const slow = h2request(session, { ":path": "/slow" }).then((r) => {
    slowDone = true;
    return r;
  });
  const fast = await h2request(session, { ":path": "/fast" });
  t.equal(fast.body.toString(), "/fast", "the fast stream completed");
  t.notOk(slowDone, "while the slow one is still waiting");
  release.resolve();
  t.equal((await slow).body.toString(), "/slow");
});

t.test("a stream reset by the client is a disconnect for that request only", async (t) => {
  const disconnected = deferred<string>();
  const started = deferred<void>();
  const app: App = async (scope, receive, send) => {
    if ((scope as HttpScope).path === "/wait") {
      started.resolve();
      await receive(); // the (empty) body
      disconnected.resolve((await receive()).type);
      return;
    }
    await send({ type: "http.response.start", status: 200, headers: [] });
    await send({ type: "http.response.body", body: "fine" });
  };
  const { url } = await start(t, app);
  const session = await h2connect(url);
  t.teardown(() => session.close());
  const stream = session.request({ ":path": "/wait" }, { endStream: true });
  stream.on("error", () => {});
  await started.promise;
  stream.close(constants.NGHTTP2_CANCEL);
  t.equal(await disconnected.promise, "http.disconnect");
  const other = await h2request(session, { ":path": "/other" });
  t.equal(other.body.toString(), "fine", "the connection and its other streams go on");
});

t.test("TLS: h2 by ALPN, HTTP/1.1 for clients that do not offer it, the same app", { skip: typeof material === "string" ? material : false }, async (t) => {
  const { key, cert, certFile } = material as Exclude<typeof material, string>;
  const app: App = async (scope, _receive, send) => {
    const s = scope as HttpScope;
    await send({ type: "http.response.start", status: 200, headers: [["content-type", "application/json"]] });
    await send({ type: "http.response.body", body: JSON.stringify({ version: s.httpVersion, scheme: s.scheme }) });
  };
  const { url } = await start(t, app, { tls: { key, cert } });
  t.match(url, /^https:/);

  const h2 = await h2get(url, "/", { ca: cert });
  t.same(JSON.parse(h2.body.toString()), { version: "2", scheme: "https" }, "node:http2 client: h2");

  const h2Agent = new Agent({ allowH2: true, connect: { ca: cert } });
  t.teardown(() => h2Agent.close());
  const viaUndici = await request(`${url}/`, { dispatcher: h2Agent });
  t.same(await viaUndici.body.json(), { version: "2", scheme: "https" }, "undici allowH2: h2");

  const h1Agent = new Agent({ connect: { ca: cert } });
  t.teardown(() => h1Agent.close());
  const viaH1 = await request(`${url}/`, { dispatcher: h1Agent });
  t.same(await viaH1.body.json(), { version: "1.1", scheme: "https" }, "a client offering only http/1.1 is served HTTP/1.1");

  if (noCurl !== false) {
    t.comment(`${noCurl}: its cases skipped`);
    return;
  }
  t.same(JSON.parse(await curl(["--http2", "--cacert", certFile, `${url}/`])), { version: "2", scheme: "https" }, "curl --http2");
  t.same(JSON.parse(await curl(["--http1.1", "--cacert", certFile, `${url}/`])), { version: "1.1", scheme: "https" }, "curl --http1.1");
  const long = await request(`${url}/${"a".repeat(9000)}`, { dispatcher: h1Agent });
  t.equal(long.statusCode, 414, "the HTTP/1.1 fallback has the node server's limits (maxUrlLength)");
  await long.body.dump();
});

t.test("TLS fallback: WebSockets over HTTP/1.1 on the same port (RFC 8441 is not offered)", { skip: typeof material === "string" ? material : false }, async (t) => {
  const { key, cert } = material as Exclude<typeof material, string>;
  const app = new LaminarApp({ logger: silentLogger, server: "http2" });
  app.websocket("/ws", async ({ ws, scope }) => {
    await ws.accept();
    for await (const message of ws) await ws.sendText(`${scope.scheme}:${String(message)}`);
  });
  const { port } = await app.listen({ host: "127.0.0.1", port: 0, tls: { key, cert } });
  t.teardown(() => app.close({ timeout: 0 }));
  const ws = new WebSocket(`wss://127.0.0.1:${port}/ws`, { ca: cert });
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  const reply = new Promise<string>((resolve) => ws.once("message", (data) => resolve(String(data))));
  ws.send("hi");
  t.equal(await reply, "wss:hi");
  ws.close();
});

t.test("TLS: a cleartext client on the TLS port (HTTP/1.1 bytes, or the h2c preface) is dropped; the server goes on", { skip: typeof material === "string" ? material : false }, async (t) => {
  const { key, cert } = material as Exclude<typeof material, string>;
  const { url, port } = await start(t, echoApp, { tls: { key, cert } });
  for (const bytes of ["GET / HTTP/1.1\r\nHost: x\r\n\r\n", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"]) {
    const socket = connect(port, "127.0.0.1");
    socket.on("error", () => {});
    socket.on("data", () => {});
    socket.write(bytes);
    await new Promise((resolve) => socket.once("close", resolve));
  }
  const res = await h2get(url, "/after", { ca: cert });
  t.equal(res.status, 200, "still serving");
});

t.test("silent connections are closed: no TLS handshake within headersTimeout; no h2c preface or stream within keepAliveTimeout", { skip: typeof material === "string" ? material : false }, async (t) => {
  const { key, cert } = material as Exclude<typeof material, string>;
  const secure = await start(t, echoApp, { tls: { key, cert }, headersTimeout: 100 });
  const cleartext = await start(t, echoApp, { keepAliveTimeout: 100 });
  for (const port of [secure.port, cleartext.port]) {
    const socket = connect(port, "127.0.0.1");
    socket.on("error", () => {});
    socket.on("data", () => {});
    await new Promise((resolve) => socket.once("close", resolve)); // bounded by the server, or tap's timeout
  }
  t.pass("both closed by the server");
});

t.test("TLS graceful close: an h2 stream in flight finishes, an idle HTTP/1.1 keep-alive connection is closed", { skip: typeof material === "string" ? material : false }, async (t) => {
  const { key, cert } = material as Exclude<typeof material, string>;
  const release = deferred<void>();
  const started = deferred<void>();
  const app: App = async (scope, _receive, send) => {
    if ((scope as HttpScope).path === "/slow") {
      started.resolve();
      await release.promise;
    }
    await send({ type: "http.response.start", status: 200, headers: [] });
    await send({ type: "http.response.body", body: `${(scope as HttpScope).httpVersion}` });
  };
  const server = new Http2Server({ logger: silentLogger });
  const { url } = await server.listen(app, { host: "127.0.0.1", port: 0, tls: { key, cert } });
  const h1 = new Agent({ connect: { ca: cert } });
  t.teardown(() => h1.close());
  const first = await request(`${url}/`, { dispatcher: h1 });
  t.equal(await first.body.text(), "1.1", "an HTTP/1.1 keep-alive connection, now idle");
  const session = await h2connect(url, { ca: cert });
  const goaway = new Promise<void>((resolve) => session.once("goaway", () => resolve()));
  const inFlight = h2request(session, { ":path": "/slow" });
  await started.promise;
  const closed = server.close({ timeout: 10_000 });
  await goaway;
  release.resolve();
  t.equal((await inFlight).body.toString(), "2", "the h2 stream finished after GOAWAY");
  await closed;
  t.pass("close resolved: the idle HTTP/1.1 connection was closed after the grace");
});

t.test("h2c with prior knowledge, by curl", { skip: noCurl }, async (t) => {
  const { url } = await start(t, echoApp);
  const out = await curl(["--http2-prior-knowledge", "-d", "posted", `${url}/p?q=1`]);
  const scope = JSON.parse(out);
  t.equal(scope.httpVersion, "2");
  t.equal(scope.body, "posted");
  t.equal(scope.queryString, "q=1");
});

t.test("h2c: an HTTP/1.1 client is dropped (no preface), and so is garbage; the server goes on", async (t) => {
  const { url, port } = await start(t, echoApp);
  for (const bytes of ["GET / HTTP/1.1\r\nHost: x\r\n\r\n", "\x16\x03\x01 not even TLS"]) {
    const socket = connect(port, "127.0.0.1");
    socket.on("error", () => {});
    socket.on("data", () => {});
    socket.write(bytes);
    await new Promise((resolve) => socket.once("close", resolve));
  }
  t.equal((await h2get(url, "/after")).status, 200, "still serving");
});

t.test("settings advertised: max concurrent streams, max header list size, no push, no extended CONNECT", async (t) => {
  const { url } = await start(t, echoApp, { maxHeaderSize: 8192 }, { maxConcurrentStreams: 7 });
  const session = await h2connect(url);
  t.teardown(() => session.close());
  await h2request(session, {});
  const settings = session.remoteSettings;
  t.equal(settings.maxConcurrentStreams, 7);
  t.equal(settings.maxHeaderListSize, 8192);
  t.equal(settings.enableConnectProtocol, false, "RFC 8441 not offered: WebSockets stay on HTTP/1.1");
});

for (const acked of [false, true]) {
  t.test(`a client opening more streams than maxConcurrentStreams (SETTINGS ${acked ? "" : "not "}acknowledged): refused, the app runs only the allowed ones, the server goes on`, async (t) => {
    const release = deferred<void>();
    let calls = 0;
    const app: App = async (scope, _receive, send) => {
      calls++;
      if ((scope as HttpScope).path === "/") await release.promise;
      await send({ type: "http.response.start", status: 200, headers: [] });
      await send({ type: "http.response.body", body: "ok" });
    };
    const { url, port } = await start(t, app, {}, { maxConcurrentStreams: 2 });
    t.teardown(() => release.resolve());
    const conn = await rawH2(port);
    t.teardown(() => conn.socket.destroy());
    // Acknowledged (RFC 9113 §6.5.3) or not, the limit holds: nghttp2 counts against the pending value.
    await until(() => parseFrames(conn.received()).some((f) => f.type === FRAME.SETTINGS && (f.flags & 0x1) === 0));
    if (acked) conn.socket.write(frame(FRAME.SETTINGS, 0x1, 0));
    for (const id of [1, 3, 5]) conn.socket.write(frame(FRAME.HEADERS, 0x5, id, getHeaderBlock("localhost")));
    // RFC 9113 §5.1.2 allows a stream error (REFUSED_STREAM); node/nghttp2 close the connection
    // instead once the limit was acknowledged (GOAWAY with an error code).
    const refused = (): boolean =>
      goawayCode(conn.received()) !== undefined || parseFrames(conn.received()).some((f) => f.type === FRAME.RST_STREAM && f.streamId === 5);
    await until(refused);
    t.ok(refused(), "the third stream was refused");
    const code = goawayCode(conn.received());
    if (code !== undefined) t.not(code, constants.NGHTTP2_NO_ERROR, `GOAWAY with an error code (${code})`);
    t.ok(calls <= 2, `the refused stream never reached the app (${calls} app calls)`);
    release.resolve();
    const res = await h2get(url, "/after");
    t.equal(res.body.toString(), "ok", "a new client is served");
  });
}

for (const acked of [false, true]) {
  t.test(`a header block past maxHeaderSize, SETTINGS ${acked ? "acknowledged: nghttp2 resets the stream" : "not acknowledged: 431"}; the connection serves the next one`, async (t) => {
    let calls = 0;
    const app: App = async (scope, receive, send) => {
      calls++;
      await echoApp(scope, receive, send);
    };
    const { port } = await start(t, app, { maxHeaderSize: 4096 });
    const conn = await rawH2(port);
    t.teardown(() => conn.socket.destroy());
    if (acked) {
      await until(() => parseFrames(conn.received()).some((f) => f.type === FRAME.SETTINGS && (f.flags & 0x1) === 0));
      conn.socket.write(frame(FRAME.SETTINGS, 0x1, 0));
      await until(() => parseFrames(conn.received()).filter((f) => f.type === FRAME.SETTINGS && (f.flags & 0x1) === 1).length > 0);
    }
    const big = getHeaderBlock("localhost", [["x-big", "a".repeat(8000)]]);
    // HEADERS + CONTINUATION, as a client splits a large block.
    conn.socket.write(frame(FRAME.HEADERS, 0x1, 1, big.subarray(0, 4000)));
    conn.socket.write(frame(FRAME.CONTINUATION, 0x4, 1, big.subarray(4000)));
    conn.socket.write(frame(FRAME.HEADERS, 0x5, 3, getHeaderBlock("localhost")));
    await until(() => parseFrames(conn.received()).some((f) => f.type === FRAME.DATA && f.streamId === 3 && (f.flags & 0x1) === 1));
    const frames = parseFrames(conn.received());
    const one = frames.filter((f) => f.streamId === 1);
    if (acked) {
      const reset = one.find((f) => f.type === FRAME.RST_STREAM);
      t.equal(reset?.payload.readUInt32BE(0), constants.NGHTTP2_ENHANCE_YOUR_CALM, "RST_STREAM(ENHANCE_YOUR_CALM)");
    } else {
      const body = one.find((f) => f.type === FRAME.DATA);
      t.same(JSON.parse(String(body?.payload)), { detail: "Request Header Fields Too Large" }, "431's JSON body");
    }
    t.ok(frames.some((f) => f.type === FRAME.HEADERS && f.streamId === 3), "stream 3 answered on the same connection");
    t.equal(calls, 1, "only stream 3 reached the app");
  });
}

t.test("no :authority and no single Host: nghttp2 refuses the stream before the adapter sees it", async (t) => {
  const { port } = await start(t, echoApp);
  const conn = await rawH2(port);
  t.teardown(() => conn.socket.destroy());
  const GET_HTTP_SLASH = Buffer.from([0x82, 0x86, 0x84]); // static table: :method GET, :scheme http, :path /
  conn.socket.write(frame(FRAME.HEADERS, 0x5, 1, GET_HTTP_SLASH));
  conn.socket.write(frame(FRAME.HEADERS, 0x5, 3, Buffer.concat([GET_HTTP_SLASH, literal("host", "a.example"), literal("host", "b.example")])));
  const answered = (id: number): boolean => parseFrames(conn.received()).some((f) => f.streamId === id && (f.type === FRAME.DATA || f.type === FRAME.RST_STREAM));
  await until(() => answered(1) && answered(3));
  const frames = parseFrames(conn.received());
  const reset = frames.find((f) => f.streamId === 1 && f.type === FRAME.RST_STREAM);
  t.equal(reset?.payload.readUInt32BE(0), constants.NGHTTP2_PROTOCOL_ERROR, "RFC 9113 §8.3.1: no authority at all is malformed");
  const resetThree = frames.find((f) => f.streamId === 3 && f.type === FRAME.RST_STREAM);
  t.equal(resetThree?.payload.readUInt32BE(0), constants.NGHTTP2_PROTOCOL_ERROR, "two Host fields and no :authority: refused too");
});

/** Floods whose frames are sent raw; each must close the connection, not the server. */
const floods: Array<{ name: string; frames: (i: number) => Buffer; count: number }> = [
  { name: "PING flood (CVE-2019-9512)", frames: () => frame(FRAME.PING, 0, 0, Buffer.alloc(8)), count: 300 },
  { name: "SETTINGS flood (CVE-2019-9515)", frames: () => frame(FRAME.SETTINGS, 0, 0), count: 300 },
  {
    name: "rapid reset (CVE-2023-44487)",
    frames: (i) => {
      const id = 2 * i + 1;
      return Buffer.concat([frame(FRAME.HEADERS, 0x5, id, getHeaderBlock("localhost")), frame(FRAME.RST_STREAM, 0, id, u32(constants.NGHTTP2_CANCEL))]);
    },
    count: 400,
  },
];

for (const flood of floods) {
  t.test(`${flood.name}: the connection is closed with ENHANCE_YOUR_CALM, the server keeps serving`, async (t) => {
    let appCalls = 0;
    const app: App = async (scope, receive, send) => {
      appCalls++;
      if ((scope as HttpScope).path === "/") {
        // Never answers on its own: the rapid-reset streams are reset while it waits.
        await receive();
        await receive();
        return;
      }
      await send({ type: "http.response.start", status: 200, headers: [] });
      await send({ type: "http.response.body", body: "still here" });
    };
    const logger = capturingLogger();
    const { url, port } = await start(t, app, { logger });
    const conn = await rawH2(port);
    t.teardown(() => conn.socket.destroy());
    const burst: Buffer[] = [];
    for (let i = 0; i < flood.count; i++) burst.push(flood.frames(i));
    conn.socket.write(Buffer.concat(burst));
    await conn.closed;
    t.equal(goawayCode(conn.received()), constants.NGHTTP2_ENHANCE_YOUR_CALM, "GOAWAY(ENHANCE_YOUR_CALM) before the close");
    t.ok(logger.entries.some((e) => e.level === "warn"), "logged as a warning");
    if (flood.name.startsWith("rapid")) t.ok(appCalls < flood.count, `fewer app calls than streams opened (${appCalls} < ${flood.count})`);
    const res = await h2get(url, "/after");
    t.equal(res.body.toString(), "still here", "a new client is served");
  });
}

t.test("h2load: a bounded load run over h2c completes every request", { skip: noH2load }, async (t) => {
  const { url } = await start(t, echoApp);
  const { stdout } = await run("h2load", ["-n", "2000", "-c", "4", "-m", "10", `${url}/load`], { timeout: 30_000 });
  t.match(stdout, /requests: 2000 total, 2000 started, 2000 done, 2000 succeeded, 0 failed, 0 errored/);
  t.match(stdout, /status codes: 2000 2xx/);
});

/** A big-endian uint32. */
function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value);
  return b;
}

/** Waits (one loop turn at a time, bounded) until `check()` holds. */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** curl's body output (run without blocking the event loop: the server is in this process). */
async function curl(args: string[]): Promise<string> {
  const { stdout } = await run("curl", ["-s", "--fail-with-body", "--max-time", "10", ...args]);
  return stdout;
}


