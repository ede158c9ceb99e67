/**
 * The connection-server conformance suite: what every {@link ConnectionServer} must do on a real
 * socket, whatever parses the HTTP underneath. A new server (uWebSockets.js next) passes by adding
 * one file that calls {@link serverConformance} with its factory.
 *
 * It covers: the request corpus in `test/fixtures/requests/` (valid requests answered as expected;
 * malformed ones answered with the right 4xx and the connection closed, and the server still
 * serving afterwards), scope contents, response framing (content-length, HEAD, 204, streaming,
 * repeated headers), app failures, limits, and graceful close; `streaming-cases.ts` adds clients
 * that leave mid-request or mid-response, backpressure on a slow reader, and slowly read uploads.
 *
 * @module
 */
import type { Test } from "tap";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { Client, request } from "undici";
import type { App } from "../../../layers/adapter/events.js";
import type { ConnectionServer, ListenOptions, ListeningAddress } from "../../../layers/server/connection-server.js";
import { silentLogger } from "../../../lib/logger.js";
import { loadFixtures, type HttpFixture } from "./http-fixtures.js";
import { collectResponses, openSocket, rawRequest } from "./raw-http.js";
import { capturingLogger, deferred, echoApp, readBody } from "./test-apps.js";
import { streamingCases } from "./streaming-cases.js";

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "fixtures", "requests");

const GOOD_REQUEST = "GET /still-serving HTTP/1.1\r\nHost: x\r\n\r\n";

/**
 * What a server's parser does differently from the suite's expectations, each with the reason
 * (printed with the skip). Keys are corpus fixture names (`invalid/obs-fold.http`) or subtest titles
 * without the `name: ` prefix.
 */
export interface ServerQuirks {
  /** Cases not run at all. */
  skip?: Record<string, string>;
  /** Corpus cases whose status and close are checked but whose error body is the parser's own (not JSON). */
  foreignErrorBody?: Record<string, string>;
}

/**
 * Runs the server conformance suite as subtests of `t`.
 *
 * @param name label for the subtests
 * @param makeServer returns a fresh, not yet listening server
 * @param quirks per-server skips, each with a reason (none for node:http)
 */
export function serverConformance(t: Test, name: string, makeServer: () => ConnectionServer, quirks: ServerQuirks = {}): void {
  const skips = quirks.skip ?? {};
  const foreign = quirks.foreignErrorBody ?? {};
  const realTest = t.test.bind(t);
  /** `t.test`, unless this server skips the case (then a skip with the reason). */
  const test = (title: string, fn: (t: Test) => Promise<void>): void => {
    const key = title.startsWith(`${name}: `) ? title.slice(name.length + 2) : title;
    const reason = skips[key];
    if (reason !== undefined) realTest(title, { skip: reason }, fn);
    else realTest(title, fn);
  };
  /** Starts a server for `app` on 127.0.0.1:0 and closes it when the subtest ends. */
  async function start(t: Test, app: App, options: ListenOptions = {}): Promise<{ server: ConnectionServer } & ListeningAddress> {
    const server = makeServer();
    const address = await server.listen(app, { host: "127.0.0.1", port: 0, logger: silentLogger, ...options });
    t.teardown(() => server.close({ timeout: 0 }));
    return { server, ...address };
  }

  t.test(`${name}: request corpus`, async (t) => {
    for (const group of ["valid", "invalid"] as const) {
      for (const fixture of loadFixtures(FIXTURES, group)) {
        const reason = skips[fixture.name];
        if (reason !== undefined) t.test(fixture.name, { skip: reason }, async () => {});
        else t.test(fixture.name, (t) => runFixture(t, fixture, group === "invalid"));
      }
    }
  });

  async function runFixture(t: Test, fixture: HttpFixture, invalid: boolean): Promise<void> {
    const { port } = await start(t, echoApp, fixture.limits);
    const result = await rawRequest(port, fixture.bytes, {
      responses: invalid ? undefined : fixture.status[0].length,
      head: fixture.head,
    });
    const statuses = result.responses.map((r) => r.status);
    t.ok(
      fixture.status.some((alt) => alt.join(" ") === statuses.join(" ")),
      `statuses, in order: got [${statuses.join(" ")}], want ${fixture.status.map((a) => `[${a.join(" ")}]`).join(" or ")}`,
    );
    let text = result.responses.map((r) => r.body).join("\n");
    for (const needle of fixture.contains) {
      const at = text.indexOf(needle);
      t.ok(at !== -1, `response contains ${needle}`);
      if (at !== -1) text = text.slice(at + needle.length);
    }
    if (invalid) {
      t.ok(result.closed, "the server closed the connection");
      const last = result.responses[result.responses.length - 1];
      const foreignReason = foreign[fixture.name];
      if (foreignReason !== undefined) t.comment(`error body not checked: ${foreignReason}`);
      if (last !== undefined && last.status >= 400 && foreignReason === undefined) {
        t.equal(last.headers.connection, "close", "error response says connection: close");
        t.match(JSON.parse(last.body), { detail: String }, "JSON error body");
      }
    }
    const again = await rawRequest(port, GOOD_REQUEST, { responses: 1 });
    t.equal(again.responses[0]?.status, 200, "still serving on a fresh connection");
  }

  test(`${name}: status lines carry the standard reason phrase`, async (t) => {
    const { port } = await start(t, echoApp);
    const ok = await rawRequest(port, GOOD_REQUEST, { responses: 1 });
    t.equal(ok.responses[0]?.statusLine, "HTTP/1.1 200 OK");
    const bad = await rawRequest(port, "GET /x HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999\r\n\r\n");
    t.equal(bad.responses[0]?.statusLine, "HTTP/1.1 413 Payload Too Large", "node's reason table, on the adapter's own errors too");
  });

  test(`${name}: listen on port 0 resolves the bound address; the scope describes the request`, async (t) => {
    const { host, port, url } = await start(t, echoApp, { state: { db: "pool" } });
    t.equal(host, "127.0.0.1");
    t.ok(port > 0);
    t.equal(url, `http://127.0.0.1:${port}`);
    const res = await request(`${url}/caf%C3%A9/x?a=1&b=%20`, {
      method: "POST",
      body: "payload",
      headers: { "X-Echo": "v", "content-type": "text/plain" },
    });
    t.equal(res.statusCode, 200);
    const seen = (await res.body.json()) as Record<string, unknown>;
    t.match(seen, {
      method: "POST",
      path: "/café/x",
      rawPath: "/caf%C3%A9/x",
      queryString: "a=1&b=%20",
      httpVersion: "1.1",
      scheme: "http",
      rootPath: "",
      body: "payload",
      echo: "v",
      server: ["127.0.0.1", port],
      state: { db: "pool" },
    });
    const client = seen.client as [string, number];
    t.equal(client[0], "127.0.0.1");
    t.type(client[1], "number");
    const headers = seen.headers as Array<[string, string]>;
    t.ok(
      headers.every(([n]) => n === n.toLowerCase()),
      "header names lower-cased",
    );
    t.same(
      headers.find(([n]) => n === "x-echo"),
      ["x-echo", "v"],
    );
  });

  test(`${name}: scope.state is a fresh shallow copy per request`, async (t) => {
    const shared = { pool: { id: 1 } };
    const seen: Array<Record<string, unknown>> = [];
    const { url } = await start(
      t,
      async (scope, _receive, send) => {
        if (scope.type !== "http") return;
        seen.push({ ...scope.state, sawMutation: "mutated" in scope.state });
        scope.state.mutated = true;
        await send({ type: "http.response.start", status: 204, headers: [] });
        await send({ type: "http.response.body" });
      },
      { state: shared },
    );
    await (await request(url)).body.dump();
    await (await request(url)).body.dump();
    t.equal(seen.length, 2);
    t.equal(seen[1].sawMutation, false, "a request's writes do not leak into the next");
    t.equal(seen[0].pool, shared.pool, "values shared, not cloned deeply");
    t.same(shared, { pool: { id: 1 } }, "the lifespan state itself is untouched");
  });

  test(`${name}: keep-alive: sequential requests reuse one connection`, async (t) => {
    const { url } = await start(t, echoApp);
    const client = new Client(url);
    t.teardown(() => client.close());
    const ports: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await client.request({ path: `/${i}`, method: "GET" });
      const body = (await res.body.json()) as { client: [string, number] };
      ports.push(body.client[1]);
      t.not(res.headers.connection, "close");
    }
    t.same(new Set(ports).size, 1, "same client port: same connection");
  });

  test(`${name}: pipelined requests are answered in order even when the later one finishes first`, async (t) => {
    const secondRan = deferred();
    const { port } = await start(t, async (scope, _receive, send) => {
      if (scope.type !== "http") return;
      if (scope.path === "/first") await secondRan.promise;
      else secondRan.resolve();
      await send({ type: "http.response.start", status: 200, headers: [] });
      await send({ type: "http.response.body", body: scope.path });
    });
    const { responses } = await rawRequest(port, "GET /first HTTP/1.1\r\nHost: x\r\n\r\nGET /second HTTP/1.1\r\nHost: x\r\n\r\n", {
      responses: 2,
    });
    t.same(
      responses.map((r) => r.body),
      ["/first", "/second"],
    );
  });

  test(`${name}: bytes past the declared Content-Length are a malformed next request: 400, closed`, async (t) => {
    const { port } = await start(t, echoApp);
    const socket = await openSocket(port);
    socket.on("error", () => {});
    let text = "";
    const firstDone = deferred();
    const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
    socket.on("data", (chunk: Buffer) => {
      text += chunk.toString("latin1");
      if (text.includes('"body":"hello"')) firstDone.resolve();
    });
    socket.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
    await firstDone.promise;
    socket.write(", and some more\r\n\r\n");
    await closed;
    const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
    t.same(statuses, [200, 400]);
  });

  test(`${name}: garbage pipelined behind a response in progress: no 400 spliced into it, connection closed`, async (t) => {
    const release = deferred();
    const { port } = await start(t, async (scope, _receive, send) => {
      if (scope.type !== "http") return;
      await send({ type: "http.response.start", status: 200, headers: [] });
      await send({ type: "http.response.body", body: "first part;", moreBody: true });
      await release.promise;
      await send({ type: "http.response.body", body: "second part" });
    });
    t.teardown(() => release.resolve());
    const socket = await openSocket(port);
    socket.on("error", () => {});
    let text = "";
    const headSeen = deferred();
    const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
    socket.on("data", (chunk: Buffer) => {
      text += chunk.toString("latin1");
      if (text.includes("first part;")) headSeen.resolve();
    });
    socket.write("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
    await headSeen.promise;
    socket.write("NOT A REQUEST\r\n\r\n");
    await closed;
    t.match(text, /^HTTP\/1\.1 200 /);
    t.notMatch(text, /HTTP\/1\.1 400/, "no second status line inside the first response");
  });

  test(`${name}: HTTP/1.0 without keep-alive: the connection closes after the response`, async (t) => {
    const { port } = await start(t, echoApp);
    const { responses, closed } = await rawRequest(port, "GET /a HTTP/1.0\r\n\r\n");
    t.same(
      responses.map((r) => r.status),
      [200],
    );
    t.ok(closed);
  });

  test(`${name}: an idle keep-alive connection is closed after keepAliveTimeout`, async (t) => {
    const { port } = await start(t, echoApp, { keepAliveTimeout: 50 });
    const socket = await openSocket(port);
    const result = collectResponses(socket);
    socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    const { responses, closed } = await result;
    t.same(
      responses.map((r) => r.status),
      [200],
    );
    t.ok(closed, "closed by the server, not by the test's guard");
  });

  test(`${name}: response framing`, async (t) => {
    const app: App = async (scope, receive, send) => {
      if (scope.type !== "http") return;
      await readBody(receive);
      switch (scope.path) {
        case "/utf8":
          await send({ type: "http.response.start", status: 200, headers: [["content-type", "text/plain; charset=utf-8"]] });
          await send({ type: "http.response.body", body: "héllo ✓" });
          return;
        case "/bytes":
          await send({ type: "http.response.start", status: 200, headers: [] });
          await send({ type: "http.response.body", body: new Uint8Array([1, 2, 3]) });
          return;
        case "/no-content":
          await send({ type: "http.response.start", status: 204, headers: [] });
          await send({ type: "http.response.body" });
          return;
        case "/stream":
          await send({ type: "http.response.start", status: 200, headers: [] });
          await send({ type: "http.response.body", body: "one,", moreBody: true });
          await send({ type: "http.response.body", body: "", moreBody: true });
          await send({ type: "http.response.body", body: new TextEncoder().encode("two,"), moreBody: true });
          await send({ type: "http.response.body", body: "three" });
          return;
        case "/own-length":
          await send({ type: "http.response.start", status: 200, headers: [["Content-Length", "2"]] });
          await send({ type: "http.response.body", body: "ok" });
          return;
        case "/cookies":
          await send({
            type: "http.response.start",
            status: 200,
            headers: [
              ["set-cookie", "a=1"],
              ["set-cookie", "b=2"],
              ["set-cookie", "c=3"],
            ],
          });
          await send({ type: "http.response.body", body: "" });
          return;
      }
    };
    const { port } = await start(t, app);
    const get = async (path: string, method = "GET") => {
      const r = await rawRequest(port, `${method} ${path} HTTP/1.1\r\nHost: x\r\n\r\n`, { responses: 1, head: method === "HEAD" });
      return r.responses[0];
    };
    const utf8 = await get("/utf8");
    t.equal(utf8.headers["content-length"], String(Buffer.byteLength("héllo ✓")), "content-length counts bytes, not chars");
    t.equal(utf8.body, "héllo ✓");
    const head = await get("/utf8", "HEAD");
    t.equal(head.status, 200);
    t.equal(head.headers["content-length"], String(Buffer.byteLength("héllo ✓")), "HEAD: the GET's content-length");
    const bytes = await get("/bytes");
    t.equal(bytes.headers["content-length"], "3");
    const noContent = await get("/no-content");
    t.equal(noContent.status, 204);
    t.equal(noContent.headers["content-length"], undefined, "no content-length on 204 (RFC 9110 §8.6)");
    const stream = await get("/stream");
    t.equal(stream.headers["transfer-encoding"], "chunked");
    t.equal(stream.headers["content-length"], undefined);
    t.equal(stream.body, "one,two,three");
    const own = await get("/own-length");
    t.equal(
      own.rawHeaders.filter(([n]) => n === "content-length").length,
      1,
      "the app's content-length is not doubled",
    );
    t.equal(own.body, "ok");
    const cookies = await get("/cookies");
    t.same(
      cookies.rawHeaders.filter(([n]) => n === "set-cookie").map(([, v]) => v),
      ["a=1", "b=2", "c=3"],
      "repeated headers: one line each",
    );
  });

  test(`${name}: an app that throws gets a 500 without details; the server keeps serving`, async (t) => {
    const logger = capturingLogger();
    const { url } = await start(
      t,
      async (scope, _receive, send) => {
        if (scope.type !== "http") return;
        if (scope.path === "/boom") throw new Error("secret database password in message");
        await send({ type: "http.response.start", status: 200, headers: [] });
        await send({ type: "http.response.body", body: "fine" });
      },
      { logger },
    );
    const res = await request(`${url}/boom`);
    t.equal(res.statusCode, 500);
    t.match(res.headers["content-type"], /application\/json/);
    const text = await res.body.text();
    t.same(JSON.parse(text), { detail: "Internal Server Error" });
    t.notMatch(text, /secret|Error:|at /, "no message or stack leaks");
    t.ok(
      logger.entries.some((e) => e.level === "error" && (e.obj.err as Error)?.message === "secret database password in message"),
      "the error is logged",
    );
    const ok = await request(`${url}/fine`);
    t.equal(await ok.body.text(), "fine");
  });

  test(`${name}: a body larger than maxBodySize, streamed in chunks, gives 413 while streaming`, async (t) => {
    const receiveError = deferred<unknown>();
    const firstChunk = deferred<number>();
    const { port } = await start(
      t,
      async (scope, receive, send) => {
        if (scope.type !== "http") return;
        try {
          const first = await receive();
          firstChunk.resolve(first.type === "http.request" ? first.body.length : -1);
          for (;;) {
            const event = await receive();
            if (event.type !== "http.request" || !event.moreBody) break;
          }
          receiveError.resolve(null);
        } catch (err) {
          receiveError.resolve(err);
          throw err;
        }
        await send({ type: "http.response.start", status: 200, headers: [] });
        await send({ type: "http.response.body", body: "should not happen" });
      },
      { maxBodySize: 20 },
    );
    const socket = await openSocket(port);
    const result = collectResponses(socket);
    socket.write("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n");
    t.equal(await firstChunk.promise, 10, "the first chunk reaches the app before the rest is sent");
    socket.write("a\r\n0123456789\r\na\r\n0123456789\r\n");
    const err = await receiveError.promise;
    t.match(err, { name: "BodyTooLargeError", code: "LMR_ERR_BODY_TOO_LARGE", statusCode: 413 });
    const { responses, closed } = await result;
    t.same(
      responses.map((r) => r.status),
      [413],
    );
    t.ok(closed, "connection closed");
  });

  test(`${name}: graceful close lets an in-flight request finish, answers a request racing it on an idle keep-alive connection, and refuses new connections`, async (t) => {
    const release = deferred();
    const arrived = deferred();
    const server = makeServer();
    const { port, url } = await server.listen(
      async (scope, _receive, send) => {
        if (scope.type !== "http") return;
        if (scope.path === "/slow") {
          arrived.resolve();
          await release.promise;
        }
        await send({ type: "http.response.start", status: 200, headers: [] });
        await send({ type: "http.response.body", body: scope.path });
      },
      { host: "127.0.0.1", port: 0, logger: silentLogger },
    );
    // An idle keep-alive connection (its first response fully received), and one with a request
    // in flight.
    const idleSocket = await openSocket(port);
    idleSocket.on("error", () => {});
    const idleClosed = new Promise<void>((resolve) => idleSocket.on("close", () => resolve()));
    const firstDone = deferred();
    let idleText = "";
    idleSocket.on("data", (chunk: Buffer) => {
      idleText += chunk.toString("latin1");
      if (idleText.endsWith("/first")) firstDone.resolve();
    });
    idleSocket.write("GET /first HTTP/1.1\r\nHost: x\r\n\r\n");
    await firstDone.promise;
    t.match(idleText, /^HTTP\/1\.1 200 /);
    t.notMatch(idleText, /connection: close/i, "before close(): keep-alive");
    // A second idle connection on which the client sends its next request just as the server
    // starts closing: that request must be answered (with connection: close), not dropped.
    const racing = await openSocket(port);
    const racingDone = deferred();
    let racingText = "";
    racing.on("data", (chunk: Buffer) => {
      racingText += chunk.toString("latin1");
      if (racingText.endsWith("/first")) racingDone.resolve();
    });
    racing.write("GET /first HTTP/1.1\r\nHost: x\r\n\r\n");
    await racingDone.promise;
    racing.removeAllListeners("data");
    const busy = await openSocket(port);
    const busyResult = collectResponses(busy);
    busy.write("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
    await arrived.promise;
    let closedSeen = false;
    const closed = server.close({ timeout: 60_000 }).then(() => {
      closedSeen = true;
    });
    const racingResult = collectResponses(racing);
    racing.write("GET /second HTTP/1.1\r\nHost: x\r\n\r\n");
    const racingOutcome = await racingResult;
    t.same(
      racingOutcome.responses.map((r) => [r.status, r.body, r.headers.connection]),
      [[200, "/second", "close"]],
      "a request sent on an idle connection as the close began is answered, with connection: close",
    );
    t.ok(racingOutcome.closed, "and that connection is then closed");
    t.notOk(closedSeen, "close() waits for the in-flight request");
    await t.rejects(request(`${url}/new`), "new connections are refused");
    release.resolve();
    const busyOutcome = await busyResult;
    t.same(
      busyOutcome.responses.map((r) => [r.status, r.body, r.headers.connection]),
      [[200, "/slow", "close"]],
      "the in-flight response completes, with connection: close",
    );
    t.ok(busyOutcome.closed);
    await idleClosed;
    t.pass("the idle keep-alive connection that stayed silent is closed");
    await closed;
    t.ok(closedSeen);
  });

  test(`${name}: graceful close closes a silent idle keep-alive connection after the grace, while a request is still in flight`, async (t) => {
    const release = deferred();
    const arrived = deferred();
    const server = makeServer();
    const { port } = await server.listen(
      async (scope, _receive, send) => {
        if (scope.type !== "http") return;
        if (scope.path === "/slow") {
          arrived.resolve();
          await release.promise;
        }
        await send({ type: "http.response.start", status: 200, headers: [] });
        await send({ type: "http.response.body", body: scope.path });
      },
      { host: "127.0.0.1", port: 0, logger: silentLogger },
    );
    const idle = await openSocket(port);
    idle.on("error", () => {});
    const idleClosed = new Promise<void>((resolve) => idle.on("close", () => resolve()));
    const firstDone = deferred();
    let text = "";
    idle.on("data", (chunk: Buffer) => {
      text += chunk.toString("latin1");
      if (text.endsWith("/first")) firstDone.resolve();
    });
    idle.write("GET /first HTTP/1.1\r\nHost: x\r\n\r\n");
    await firstDone.promise;
    const busy = await openSocket(port);
    const busyResult = collectResponses(busy, { guardMs: 30_000 });
    busy.write("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
    await arrived.promise;
    const closed = server.close({ timeout: 60_000 });
    await idleClosed;
    t.pass("closed while the other request is still in flight");
    release.resolve();
    t.same((await busyResult).responses.map((r) => r.status), [200]);
    await closed;
  });

  test(`${name}: a request still running after the close timeout has its connection destroyed`, async (t) => {
    const arrived = deferred();
    const server = makeServer();
    const { port } = await server.listen(
      async () => {
        arrived.resolve();
        await new Promise(() => {}); // never finishes
      },
      { host: "127.0.0.1", port: 0, logger: silentLogger },
    );
    const socket = await openSocket(port);
    const result = collectResponses(socket);
    socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await arrived.promise;
    await server.close({ timeout: 0 });
    const { responses, closed } = await result;
    t.ok(closed, "socket destroyed");
    t.same(responses, [], "no response, rather than a made-up one");
  });

  test(`${name}: close() before listen() and twice is harmless`, async (t) => {
    const server = makeServer();
    await server.close();
    const { port } = await server.listen(echoApp, { host: "127.0.0.1", port: 0, logger: silentLogger });
    t.ok(port > 0);
    await Promise.all([server.close({ timeout: 0 }), server.close({ timeout: 0 })]);
    t.pass("closed twice");
  });

  test(`${name}: listen rejects when the port is taken`, async (t) => {
    const { port } = await start(t, echoApp);
    const other = makeServer();
    await t.rejects(other.listen(echoApp, { host: "127.0.0.1", port, logger: silentLogger }), { code: "EADDRINUSE" });
  });

  test(`${name}: IPv6 ::1`, async (t) => {
    const server = makeServer();
    let address: ListeningAddress;
    try {
      address = await server.listen(echoApp, { host: "::1", port: 0, logger: silentLogger });
    } catch (err) {
      t.comment(`skipped: no IPv6 loopback here: ${(err as Error).message}`);
      return;
    }
    t.teardown(() => server.close({ timeout: 0 }));
    t.equal(address.host, "::1");
    t.equal(address.url, `http://[::1]:${address.port}`);
    const res = await request(`${address.url}/six`);
    const body = (await res.body.json()) as { path: string; client: [string, number] };
    t.equal(body.path, "/six");
    t.equal(body.client[0], "::1");
  });

  streamingCases({ name, test, start });
}
