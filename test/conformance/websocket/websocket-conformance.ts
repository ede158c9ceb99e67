/**
 * One WebSocket suite for every connection server, through the whole app (router, validation,
 * DI, error layer), with a real client (the `ws` package) and raw sockets for what a client
 * library would refuse to send. Each case ends with the server still answering.
 */
import type { Test } from "tap";
import { createHash } from "node:crypto";
import { connect, type Socket } from "node:net";
import { WebSocket } from "ws";
import { App } from "../../../lib/app.js";
import { silentLogger } from "../../../lib/logger.js";
import { Type } from "@sinclair/typebox";
import { HttpException, WebSocketDisconnect, WebSocketException } from "../../../lib/errors.js";
import { dependency } from "../../../layers/di/dependency.js";

/** Cases a server cannot pass, each with the reason (printed with the skip). */
export type WebSocketQuirks = Record<string, string>;

/** What a finished client connection saw. */
interface Closed {
  code: number;
  reason: string;
}

function opened(ws: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
}

function closed(ws: WebSocket): Promise<Closed> {
  return new Promise((resolve) => ws.once("close", (code, reason) => resolve({ code, reason: reason.toString() })));
}

function nextMessage(ws: WebSocket): Promise<{ data: Buffer; binary: boolean }> {
  return new Promise((resolve) => ws.once("message", (data: Buffer, binary) => resolve({ data, binary })));
}

/** The HTTP answer to a handshake the server refused: status, headers, body. */
function refused(url: string, options: ConstructorParameters<typeof WebSocket>[2] = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    ws.once("open", () => reject(new Error("handshake was accepted")));
    ws.once("unexpected-response", (_req, res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode as number, headers: res.headers, body }));
    });
    ws.once("error", () => undefined);
  });
}

/**
 * Sends raw handshake bytes and resolves with the response head (status and headers), the socket,
 * and whatever bytes arrived after the head.
 */
function rawHandshake(port: number, request: string): Promise<{ status: number; head: string; socket: Socket; rest: number }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(request));
    let buf = "";
    const onData = (chunk: Buffer): void => {
      buf += chunk.toString("latin1");
      const end = buf.indexOf("\r\n\r\n");
      if (end === -1) return;
      socket.removeListener("data", onData);
      const head = buf.slice(0, end);
      resolve({ status: Number(head.split(" ")[1]), head: head.toLowerCase(), socket, rest: buf.length - end - 4 });
    };
    socket.on("data", onData);
    socket.on("error", reject);
  });
}

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";
function upgradeRequest(path: string, extra: string[] = [], key = KEY, version = "13"): string {
  return [`GET ${path} HTTP/1.1`, "Host: localhost", "Upgrade: websocket", "Connection: Upgrade", `Sec-WebSocket-Key: ${key}`, `Sec-WebSocket-Version: ${version}`, ...extra, "", ""].join("\r\n");
}

/** Resolves once `read()` returns the same value `stable` times in a row (polled every 20 ms). */
async function settle(read: () => number, stable = 10): Promise<number> {
  let last = -1;
  let same = 0;
  for (;;) {
    const now = read();
    same = now === last ? same + 1 : 0;
    last = now;
    if (same >= stable) return now;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** What the test app records on the server side. */
interface Observed {
  disconnects: Array<{ code: number }>;
  cleanups: string[];
  sent: number;
}

function buildApp(observed: Observed, server: "node" | "uws"): App {
  const app = new App({ logger: silentLogger, server });
  const token = dependency({ query: Type.Object({ token: Type.Optional(Type.String()) }) }, ({ query }) => {
    if (query.token !== "secret") throw new HttpException(401, "Bad token", [["www-authenticate", "Bearer"]]);
    return "alice";
  });
  const tracked = dependency({}, function* () {
    observed.cleanups.push("open");
    try {
      yield "resource";
    } finally {
      observed.cleanups.push("closed");
    }
  });

  app.websocket("/echo", async ({ ws }) => {
    await ws.accept({ subprotocol: ws.subprotocols.includes("v2") ? "v2" : undefined, headers: [["x-server", "laminar"]] });
    try {
      for (;;) {
        const message = await ws.receive();
        if (message === "close-me") return ws.close(4001, "asked to");
        if (message === "throw") throw new Error("boom");
        if (message === "reject") throw new WebSocketException(1008, "policy");
        await ws.send(message);
      }
    } catch (error) {
      if (error instanceof WebSocketDisconnect) observed.disconnects.push({ code: error.code });
      throw error;
    }
  });
  app.websocket(
    "/rooms/{room}",
    { params: Type.Object({ room: Type.Integer({ minimum: 1 }) }), query: Type.Object({ name: Type.String({ minLength: 1 }) }) },
    async ({ ws, params, query }) => {
      await ws.accept();
      await ws.sendJson({ room: params.room, name: query.name });
      await ws.close();
    },
  );
  app.websocket("/private", { deps: { user: token, resource: tracked } }, async ({ ws, deps }) => {
    await ws.accept();
    await ws.sendText(`${deps.user} has ${deps.resource}`);
    for await (const _ of ws) {
      // drain until the client leaves
    }
  });
  app.websocket("/flood", async ({ ws }) => {
    await ws.accept();
    const chunk = new Uint8Array(64 * 1024);
    for (let i = 0; i < 512; i++) {
      await ws.sendBytes(chunk);
      observed.sent++;
    }
    await ws.close();
  });
  app.websocket("/no-accept", async () => {});
  app.websocket("/silent", async ({ ws }) => {
    await ws.accept();
    for await (const _ of ws) {
      // never answers; the idle timeout ends it
    }
  });
  app.get("/http", () => ({ ok: true }));
  return app;
}

/**
 * Registers the WebSocket suite on `t` for the server selected by `server`.
 *
 * @param quirks per-server skips, each with a reason
 * @param idleTimeout the `websocketIdleTimeout` (ms) of the idle case: as short as the server allows
 */
export function websocketConformance(t: Test, server: "node" | "uws", quirks: WebSocketQuirks = {}, idleTimeout = 300): void {
  const observed: Observed = { disconnects: [], cleanups: [], sent: 0 };
  const app = buildApp(observed, server);
  let base = "";
  let port = 0;

  t.before(async () => {
    const address = await app.listen({ port: 0, maxMessageSize: 64 * 1024 });
    port = address.port;
    base = `ws://127.0.0.1:${port}`;
  });
  t.teardown(() => app.close());

  const test = (title: string, fn: (t: Test) => Promise<void>): void => {
    const reason = quirks[title];
    if (reason !== undefined) t.test(title, { skip: reason }, async () => {});
    else t.test(title, fn);
  };

  /** Every case ends with this: plain HTTP and a fresh WebSocket still work. */
  async function stillServing(t: Test): Promise<void> {
    const res = await fetch(`http://127.0.0.1:${port}/http`);
    t.equal(res.status, 200, "HTTP still answered");
    const ws = new WebSocket(`${base}/echo`);
    await opened(ws);
    ws.send("ping?");
    t.equal((await nextMessage(ws)).data.toString(), "ping?", "a new WebSocket still echoes");
    ws.close();
    await closed(ws);
  }

  test("echoes text and binary, with the chosen subprotocol and extra headers", async (t) => {
    const ws = new WebSocket(`${base}/echo`, ["v1", "v2"]);
    const upgrade = new Promise<Record<string, unknown>>((resolve) => ws.once("upgrade", (res) => resolve(res.headers)));
    await opened(ws);
    const headers = await upgrade;
    t.equal(ws.protocol, "v2", "the server picked v2 from the offer");
    t.equal(headers["x-server"], "laminar", "accept headers reach the 101");
    ws.send("héllo");
    const text = await nextMessage(ws);
    t.same([text.binary, text.data.toString()], [false, "héllo"]);
    ws.send(Buffer.from([0, 1, 2, 255]));
    const bytes = await nextMessage(ws);
    t.same([bytes.binary, [...bytes.data]], [true, [0, 1, 2, 255]]);
    ws.close(4002, "done");
    t.same(await closed(ws), { code: 4002, reason: "done" });
    await settle(() => observed.disconnects.length, 3);
    t.same(observed.disconnects.at(-1), { code: 4002 }, "the handler saw the client's close code");
  });

  test("no subprotocol is chosen when the app picks none", async (t) => {
    const ws = new WebSocket(`${base}/echo`, ["v9"]);
    // ws (the client) refuses a 101 without the protocol it asked for: that is the point.
    const error = await new Promise<Error>((resolve) => ws.once("error", resolve));
    t.match(error.message, /subprotocol/i);
    await stillServing(t);
  });

  test("handler close: code and reason reach the client", async (t) => {
    const ws = new WebSocket(`${base}/echo`);
    await opened(ws);
    ws.send("close-me");
    t.same(await closed(ws), { code: 4001, reason: "asked to" });
  });

  test("handler error after accept: close 1011, server keeps serving", async (t) => {
    const ws = new WebSocket(`${base}/echo`);
    await opened(ws);
    ws.send("throw");
    t.equal((await closed(ws)).code, 1011);
    await stillServing(t);
  });

  test("WebSocketException: its code and reason", async (t) => {
    const ws = new WebSocket(`${base}/echo`);
    await opened(ws);
    ws.send("reject");
    t.same(await closed(ws), { code: 1008, reason: "policy" });
  });

  test("path and query are validated before the handshake: 422 with the issues", async (t) => {
    const ok = new WebSocket(`${base}/rooms/7?name=ann`);
    const message = nextMessage(ok);
    await opened(ok);
    t.same(JSON.parse((await message).data.toString()), { room: 7, name: "ann" }, "coerced params reach the handler");
    t.equal((await closed(ok)).code, 1000);

    const bad = await refused(`${base}/rooms/zero`);
    t.equal(bad.status, 422);
    const detail = JSON.parse(bad.body).detail as Array<{ loc: unknown[] }>;
    t.same(
      detail.map((issue) => issue.loc),
      [
        ["path", "room"],
        ["query", "name"],
      ],
      "every issue, path and query",
    );
    await stillServing(t);
  });

  test("a dependency's HttpException rejects the handshake with its status and headers", async (t) => {
    const denied = await refused(`${base}/private?token=nope`);
    t.equal(denied.status, 401);
    t.equal(denied.headers["www-authenticate"], "Bearer");
    t.same(JSON.parse(denied.body), { detail: "Bad token" });
  });

  test("dependencies resolve before, and clean up after, the connection", async (t) => {
    observed.cleanups.length = 0;
    const ws = new WebSocket(`${base}/private?token=secret`);
    const first = nextMessage(ws);
    await opened(ws);
    t.equal((await first).data.toString(), "alice has resource");
    t.same(observed.cleanups, ["open"], "still open while connected");
    ws.terminate(); // abrupt: no close frame
    await settle(() => observed.cleanups.length, 3);
    t.same(observed.cleanups, ["open", "closed"], "cleanup ran when the client vanished");
    await stillServing(t);
  });

  test("unknown path: 404 before the handshake", async (t) => {
    const res = await refused(`${base}/nowhere`);
    t.equal(res.status, 404);
    t.same(JSON.parse(res.body), { detail: "Not Found" });
  });

  test("an app that neither accepts nor rejects: 500", async (t) => {
    const res = await refused(`${base}/no-accept`);
    t.equal(res.status, 500);
  });

  test("a message over maxMessageSize closes with 1009", async (t) => {
    const ws = new WebSocket(`${base}/echo`);
    await opened(ws);
    ws.send("x".repeat(64 * 1024 + 1));
    t.equal((await closed(ws)).code, 1009);
    await stillServing(t);
  });

  test("malformed handshakes get their HTTP status", async (t) => {
    const badKey = await rawHandshake(port, upgradeRequest("/echo", [], "short"));
    t.equal(badKey.status, 400, "bad Sec-WebSocket-Key");
    badKey.socket.destroy();
    const badVersion = await rawHandshake(port, upgradeRequest("/echo", [], KEY, "8"));
    t.equal(badVersion.status, 426, "unsupported version");
    t.match(badVersion.head, /sec-websocket-version: 13/);
    badVersion.socket.destroy();
    const good = await rawHandshake(port, upgradeRequest("/echo"));
    t.equal(good.status, 101);
    const accept = createHash("sha1").update(KEY + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");
    t.match(good.head, `sec-websocket-accept: ${accept.toLowerCase()}`);
    good.socket.destroy();
    await stillServing(t);
  });

  test("a request upgrading to another protocol is served as plain HTTP", async (t) => {
    const request = ["GET /http HTTP/1.1", "Host: localhost", "Connection: Upgrade, HTTP2-Settings", "Upgrade: h2c", "HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA", "", ""].join("\r\n");
    const whole = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, "127.0.0.1", () => socket.write(request));
      let text = "";
      socket.on("data", (chunk: Buffer) => (text += chunk.toString("latin1")));
      socket.on("close", () => resolve(text));
      socket.on("error", reject);
    });
    t.match(whole, /^HTTP\/1\.1 200 /, "curl --http2's h2c probe gets the HTTP answer");
    t.match(whole, /\{"ok":true\}$/, "with the route's body, then the connection closes");
  });

  test("a slow reader holds the sender back (backpressure)", async (t) => {
    observed.sent = 0;
    const total = 512 * 64 * 1024;
    // Each 64 KiB binary frame from a server has a 10-byte header (opcode, 127, 64-bit length).
    const framed = 512 * (64 * 1024 + 10);
    const { status, socket, rest } = await rawHandshake(port, upgradeRequest("/flood"));
    t.equal(status, 101);
    socket.pause();
    const sentWhilePaused = await settle(() => observed.sent);
    t.ok(sentWhilePaused * 64 * 1024 < total / 2, `sender stopped at ${sentWhilePaused} of 512 messages while the client read nothing`);
    let received = rest;
    await new Promise<void>((resolve) => {
      socket.on("data", (chunk: Buffer) => {
        received += chunk.length;
        if (received >= framed) resolve();
      });
      socket.resume();
    });
    t.equal(observed.sent, 512, "everything was sent once the client read");
    t.ok(received >= framed, `client received all ${framed} framed bytes`);
    socket.destroy();
  });

  test("a silent peer is dropped after the idle timeout", async (t) => {
    // Its own server: on the shared one a short idle timeout would also drop the raw clients of
    // other cases (they never answer pings either).
    const idle = buildApp({ disconnects: [], cleanups: [], sent: 0 }, server);
    const { port: idlePort } = await idle.listen({ port: 0, websocketIdleTimeout: idleTimeout });
    t.teardown(() => idle.close({ timeout: 1_000 }));
    const { status, socket } = await rawHandshake(idlePort, upgradeRequest("/silent"));
    t.equal(status, 101);
    // The raw client never answers pings: the server must end the connection on its own.
    socket.resume();
    await new Promise<void>((resolve) => socket.once("close", () => resolve()));
    t.pass("server closed the idle connection");
  });

  test("graceful close sends 1001 to open connections", async (t) => {
    const other = buildApp({ disconnects: [], cleanups: [], sent: 0 }, server);
    const { port: otherPort } = await other.listen({ port: 0 });
    const ws = new WebSocket(`ws://127.0.0.1:${otherPort}/echo`);
    await opened(ws);
    const end = closed(ws);
    await other.close();
    t.equal((await end).code, 1001);
  });
}
