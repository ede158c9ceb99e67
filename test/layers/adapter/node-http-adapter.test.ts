/**
 * The node:http adapter on real sockets: protocol enforcement ("expected X, got Y"), the
 * response-started invariant, streaming request bodies, disconnects and backpressure.
 */
import t, { type Test } from "tap";
import * as http from "node:http";
import { connect } from "node:net";
import { request } from "undici";
import type { App, ReceiveEvent, SendEvent } from "../../../layers/adapter/events.js";
import { NodeHttpServer } from "../../../layers/server/node-http-server.js";
import type { ListenOptions } from "../../../layers/server/connection-server.js";
import { collectResponses, openSocket, rawRequest } from "../../conformance/server/raw-http.js";
import { capturingLogger, deferred } from "../../conformance/server/test-apps.js";

const GET = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

async function start(t: Test, app: App, options: ListenOptions = {}, prereadLimit = 0) {
  const logger = capturingLogger();
  // Most tests here are about streaming bodies through receive(), so bodies are not pre-read
  // unless a test asks (the pre-read tests at the end of the file).
  const server = new NodeHttpServer({ prereadLimit });
  const address = await server.listen(app, { host: "127.0.0.1", port: 0, logger, ...options });
  t.teardown(() => server.close({ timeout: 0 }));
  return { ...address, logger };
}

/** An app that runs `steps` against send and records what each send did. */
function scripted(steps: SendEvent[], outcome: (results: Array<"ok" | Error>) => void): App {
  return async (scope, _receive, send) => {
    if (scope.type !== "http") return;
    const results: Array<"ok" | Error> = [];
    for (const step of steps) {
      try {
        await send(step);
        results.push("ok");
      } catch (err) {
        results.push(err as Error);
      }
    }
    outcome(results);
  };
}

const START: SendEvent = { type: "http.response.start", status: 200, headers: [["content-type", "text/plain"]] };
const BODY: SendEvent = { type: "http.response.body", body: "done" };

t.test("body before start: 'expected http.response.start, got http.response.body', then 500", async (t) => {
  const results = deferred<Array<"ok" | Error>>();
  const { port, logger } = await start(t, scripted([BODY], results.resolve));
  const { responses } = await rawRequest(port, GET, { responses: 1 });
  const [err] = await results.promise;
  t.match(err, { name: "ProtocolError", code: "LMR_ERR_PROTOCOL", message: "Protocol error: expected http.response.start, got http.response.body" });
  t.equal(responses[0].status, 500, "the app returned without a response: 500");
  t.same(JSON.parse(responses[0].body), { detail: "Internal Server Error" });
  t.ok(logger.entries.some((e) => e.level === "error" && (e.obj.err as Error).name === "ResponseNotCompletedError"));
});

t.test("start twice: 'expected http.response.body, got http.response.start'; the first start stands", async (t) => {
  const results = deferred<Array<"ok" | Error>>();
  const twice: SendEvent = { type: "http.response.start", status: 404, headers: [] };
  const { port } = await start(t, scripted([START, twice, BODY], results.resolve));
  const { responses } = await rawRequest(port, GET, { responses: 1 });
  const [first, second, third] = await results.promise;
  t.equal(first, "ok");
  t.match(second, { message: "Protocol error: expected http.response.body, got http.response.start" });
  t.equal(third, "ok");
  t.equal(responses[0].status, 200);
  t.equal(responses[0].body, "done");
});

t.test("anything after the final body: 'expected nothing (response complete), got …'", async (t) => {
  const results = deferred<Array<"ok" | Error>>();
  const { port } = await start(t, scripted([START, BODY, BODY, START], results.resolve));
  const { responses } = await rawRequest(port, GET + GET, { responses: 2 });
  const [, , afterBody, afterStart] = await results.promise;
  t.match(afterBody, { message: "Protocol error: expected nothing (response complete), got http.response.body" });
  t.match(afterStart, { message: "Protocol error: expected nothing (response complete), got http.response.start" });
  t.same(
    responses.map((r) => [r.status, r.body]),
    [
      [200, "done"],
      [200, "done"],
    ],
    "the responses are intact and keep-alive went on",
  );
});

t.test("invalid events are ProtocolErrors, not crashes", async (t) => {
  const results = deferred<Array<"ok" | Error>>();
  const bad = [
    { type: "http.response.start", status: 42, headers: [] },
    { type: "http.response.start", status: 200.5, headers: [] },
    { type: "http.response.start", status: 200, headers: "nope" },
    { type: "websocket.send" },
    null,
  ] as unknown as SendEvent[];
  const { port } = await start(t, scripted([...bad, START, BODY], results.resolve));
  const { responses } = await rawRequest(port, GET, { responses: 1 });
  const out = await results.promise;
  t.match(out[0], { name: "ProtocolError", message: /expected an integer status between 100 and 599, got 42/ });
  t.match(out[1], { name: "ProtocolError", message: /got 200\.5/ });
  t.match(out[2], { name: "ProtocolError", message: /headers as an array/ });
  t.match(out[3], { message: "Protocol error: expected http.response.start, got websocket.send" });
  t.match(out[4], { message: "Protocol error: expected http.response.start, got null" });
  t.same(out.slice(5), ["ok", "ok"], "the protocol state was not advanced by the bad events");
  t.equal(responses[0].status, 200);
});

t.test("a header node rejects (CR/LF injection) is a ProtocolError and the response can still be a 500", async (t) => {
  const results = deferred<Array<"ok" | Error>>();
  const injected: SendEvent = { type: "http.response.start", status: 200, headers: [["x-evil", "a\r\nset-cookie: pwned=1"]] };
  const { port } = await start(t, scripted([injected, BODY], results.resolve));
  const { responses } = await rawRequest(port, GET, { responses: 1 });
  const [, body] = await results.promise;
  t.match(body, { name: "ProtocolError", message: /expected valid response header names and values/ });
  t.equal(responses[0].status, 500, "nothing reached the wire, so the fallback 500 went out");
  t.equal(responses[0].headers["set-cookie"], undefined, "no header injected");
});

t.test("app returns without starting: 500 JSON, logged", async (t) => {
  const { url, logger } = await start(t, async () => {});
  const res = await request(url);
  t.equal(res.statusCode, 500);
  t.same(await res.body.json(), { detail: "Internal Server Error" });
  const entry = logger.entries.find((e) => e.level === "error");
  t.match(entry?.obj.err, { name: "ResponseNotCompletedError", message: /no http.response.start sent/ });
});

t.test("app returns after start without finishing: the client sees a truncated response", async (t) => {
  const { port, logger } = await start(t, async (_scope, _receive, send) => {
    await send(START);
    await send({ type: "http.response.body", body: "partial", moreBody: true });
  });
  const { responses, closed, leftover } = await rawRequest(port, GET);
  t.same(responses, [], "no complete response");
  t.ok(closed, "connection closed");
  t.match(leftover, /^HTTP\/1\.1 200 /, "the head went out");
  t.match(leftover, /partial/);
  t.notMatch(leftover, /\r\n0\r\n\r\n$/, "no terminating chunk: never a complete-looking lie");
  t.match(logger.entries.find((e) => e.level === "error")?.obj.err, { name: "ResponseNotCompletedError", message: /response started/ });
});

t.test("app throws before start: 500 JSON without the message or stack", async (t) => {
  const { port, logger } = await start(t, async () => {
    throw new TypeError("internal detail 1234");
  });
  const { responses } = await rawRequest(port, GET, { responses: 1 });
  t.equal(responses[0].status, 500);
  t.equal(responses[0].body, '{"detail":"Internal Server Error"}');
  t.equal(responses[0].headers["content-type"], "application/json");
  t.match(logger.entries[0], { level: "error", obj: { err: { message: "internal detail 1234" } } });
});

t.test("app throws after start: connection closed, error logged", async (t) => {
  const { port, logger } = await start(t, async (_scope, _receive, send) => {
    await send(START);
    throw new Error("late failure");
  });
  const { responses, closed, leftover } = await rawRequest(port, GET);
  t.same(responses, []);
  t.ok(closed);
  t.equal(leftover, "", "the head was stored, never written: nothing on the wire but a close");
  t.match(logger.entries[0], { level: "error", obj: { err: { message: "late failure" } } });
});

t.test("app throws after completing: the response stands, the error is logged", async (t) => {
  const { port, logger } = await start(t, async (_scope, _receive, send) => {
    await send(START);
    await send(BODY);
    throw new Error("after the fact");
  });
  const { responses } = await rawRequest(port, GET + GET, { responses: 2 });
  t.same(
    responses.map((r) => r.body),
    ["done", "done"],
  );
  t.match(logger.entries[0], { level: "error", obj: { err: { message: "after the fact" } } });
});

t.test("a request without a body: one final empty event, then disconnect once the response is done", async (t) => {
  const events: ReceiveEvent[] = [];
  const done = deferred();
  const { port } = await start(t, async (_scope, receive, send) => {
    events.push(await receive());
    const disconnect = receive();
    await send(START);
    await send(BODY);
    events.push(await disconnect);
    done.resolve();
  });
  const { responses } = await rawRequest(port, GET, { responses: 1 });
  await done.promise;
  t.equal(responses[0].body, "done");
  t.same(events, [{ type: "http.request", body: new Uint8Array(0), moreBody: false }, { type: "http.disconnect" }]);
});

t.test("a chunked body streams: each chunk reaches the app before the next is sent", async (t) => {
  const log: string[] = [];
  const got = [deferred(), deferred()];
  const done = deferred();
  const { port } = await start(t, async (_scope, receive, send) => {
    let i = 0;
    for (;;) {
      const event = await receive();
      if (event.type !== "http.request") throw new Error("unexpected disconnect");
      log.push(`app: ${JSON.stringify(Buffer.from(event.body).toString())} more=${event.moreBody}`);
      got[i++]?.resolve();
      if (!event.moreBody) break;
    }
    await send(START);
    await send(BODY);
    done.resolve();
  });
  const socket = await openSocket(port);
  const result = collectResponses(socket, { responses: 1 });
  socket.write("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\naaa\r\n");
  await got[0].promise;
  log.push("client: second chunk");
  socket.write("4\r\nbbbb\r\n");
  await got[1].promise;
  log.push("client: last chunk");
  socket.write("0\r\n\r\n");
  const { responses } = await result;
  await done.promise;
  t.equal(responses[0].status, 200);
  t.same(log.slice(0, 4), ['app: "aaa" more=true', "client: second chunk", 'app: "bbbb" more=true', "client: last chunk"]);
  t.match(log[4], /more=false/, "the end arrives as a final event");
});

t.test("client aborts mid-body: receive() yields http.disconnect; send afterwards resolves", async (t) => {
  const firstChunk = deferred();
  const outcome = deferred<{ second: ReceiveEvent; sendResult: string; third: ReceiveEvent }>();
  const { port, logger } = await start(t, async (_scope, receive, send) => {
    const first = await receive();
    t.match(first, { type: "http.request", moreBody: true });
    firstChunk.resolve();
    const second = await receive();
    let sendResult = "resolved";
    try {
      await send(START);
      await send(BODY);
    } catch (err) {
      sendResult = String(err);
    }
    const third = await receive();
    outcome.resolve({ second, sendResult, third });
  });
  const socket = await openSocket(port);
  socket.on("error", () => {});
  socket.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nhalf of it");
  await firstChunk.promise;
  socket.destroy();
  const { second, sendResult, third } = await outcome.promise;
  t.same(second, { type: "http.disconnect" });
  t.equal(sendResult, "resolved", "send after disconnect neither throws nor writes");
  t.same(third, { type: "http.disconnect" }, "and stays disconnected");
  t.same(
    logger.entries.filter((e) => e.level === "error"),
    [],
    "a client going away is not an app error",
  );
});

t.test("backpressure: send() stays pending while the client does not read", async (t) => {
  const log: string[] = [];
  const sendCalled = deferred();
  const finished = deferred();
  const big = new Uint8Array(48 * 1024 * 1024).fill(120);
  let firstSettled = false;
  const { port } = await start(t, async (_scope, _receive, send) => {
    await send({ type: "http.response.start", status: 200, headers: [] });
    const pending = send({ type: "http.response.body", body: big, moreBody: true });
    void pending.then(() => {
      firstSettled = true;
      log.push("send resolved");
    });
    sendCalled.resolve();
    await pending;
    await send({ type: "http.response.body", body: "end" });
    finished.resolve();
  });
  const socket = await openSocket(port);
  socket.pause();
  let received = 0;
  const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
  socket.on("data", (chunk: Buffer) => {
    received += chunk.length;
    if (received >= big.length) socket.destroy();
  });
  socket.write(GET);
  await sendCalled.promise;
  // One full turn of the event loop: a send that ignored backpressure would have settled by now.
  await new Promise((resolve) => setImmediate(resolve));
  t.notOk(firstSettled, "pending while the client reads nothing");
  log.push("client reads");
  socket.resume();
  await finished.promise;
  await closed;
  t.same(log, ["client reads", "send resolved"]);
});

t.test("max body size by Content-Length: 413 before the app runs", async (t) => {
  let ran = false;
  const { port } = await start(
    t,
    async () => {
      ran = true;
    },
    { maxBodySize: 10 },
  );
  const { responses, closed } = await rawRequest(port, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n01234567890");
  t.equal(responses[0].status, 413);
  t.equal(responses[0].headers.connection, "close");
  t.ok(closed);
  t.notOk(ran, "the app never ran");
});

t.test("a body over the limit after the response started: connection closed, receive rejects", async (t) => {
  const err = deferred<unknown>();
  const firstChunk = deferred();
  const { port } = await start(
    t,
    async (_scope, receive, send) => {
      await send(START);
      await send({ type: "http.response.body", body: "streaming", moreBody: true });
      await receive();
      firstChunk.resolve();
      try {
        for (;;) await receive();
      } catch (e) {
        err.resolve(e);
      }
      await send(BODY); // ignored: the connection is gone
    },
    { maxBodySize: 8 },
  );
  const socket = await openSocket(port);
  const result = collectResponses(socket);
  socket.write("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n01234\r\n");
  await firstChunk.promise;
  socket.write("5\r\n56789\r\n");
  t.match(await err.promise, { name: "BodyTooLargeError" });
  const { responses, closed, leftover } = await result;
  t.same(responses, []);
  t.ok(closed);
  t.match(leftover, /^HTTP\/1\.1 200 /, "the 200 had started; it is cut off, not turned into a 413");
});

t.test("after the body, receive() resolves http.disconnect when the client leaves; later sends are no-ops", async (t) => {
  const waiting = deferred();
  const outcome = deferred<{ event: ReceiveEvent; sent: string }>();
  const { port, logger } = await start(t, async (_scope, receive, send) => {
    await receive(); // the (empty) body
    const next = receive();
    waiting.resolve();
    const event = await next;
    let sent = "resolved";
    await send(START).catch((err: unknown) => (sent = String(err)));
    await send(BODY).catch((err: unknown) => (sent = String(err)));
    outcome.resolve({ event, sent });
  });
  const socket = await openSocket(port);
  socket.on("error", () => {});
  socket.write(GET);
  await waiting.promise;
  socket.destroy();
  const { event, sent } = await outcome.promise;
  t.same(event, { type: "http.disconnect" });
  t.equal(sent, "resolved");
  t.same(
    logger.entries.filter((e) => e.level === "error"),
    [],
  );
});

t.test("a request without a body touches no stream: receive() attaches no listeners", async (t) => {
  let captured: http.IncomingMessage | undefined;
  const createServer = ((options: http.ServerOptions, listener: http.RequestListener) =>
    http.createServer(options, (req, res) => {
      captured = req;
      listener(req, res);
    })) as typeof http.createServer;
  const counts = deferred<number[]>();
  const server = new NodeHttpServer({ createServer });
  const { port } = await server.listen(
    async (_scope, receive, send) => {
      const event = await receive();
      const req = captured as http.IncomingMessage;
      counts.resolve([req.listenerCount("data"), req.listenerCount("readable"), req.listenerCount("end"), event.type === "http.request" && !event.moreBody ? 1 : 0]);
      await send(START);
      await send(BODY);
    },
    { host: "127.0.0.1", port: 0, logger: capturingLogger() },
  );
  t.teardown(() => server.close({ timeout: 0 }));
  await rawRequest(port, GET, { responses: 1 });
  t.same(await counts.promise, [0, 0, 0, 1]);
});

t.test("receive() twice at once, and bodies of the wrong type, are ProtocolErrors", async (t) => {
  const concurrent = deferred<unknown>();
  const out = deferred<unknown[]>();
  const { port } = await start(t, async (_scope, receive, send) => {
    const first = receive();
    concurrent.resolve(await receive().catch((err: unknown) => err));
    await first;
    await send(START);
    const badBody = await send({ type: "http.response.body", body: 42 as unknown as string }).catch((err: unknown) => err);
    const final = await send(BODY).then(
      () => "ok",
      (err: unknown) => err,
    );
    out.resolve([badBody, final]);
  });
  const socket = await openSocket(port);
  const result = collectResponses(socket, { responses: 1 });
  socket.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\n");
  t.match(await concurrent.promise, { name: "ProtocolError", message: /expected one receive\(\) at a time/ });
  socket.write("body");
  const [badBody, final] = await out.promise;
  t.match(badBody, { name: "ProtocolError", message: /expected a string or Uint8Array body, got number/ });
  t.equal(final, "ok", "a rejected body event does not advance the state");
  const { responses } = await result;
  t.equal(responses[0].body, "done");
});

t.test("header pairs that are not strings, or named __proto__, are ProtocolErrors", async (t) => {
  for (const headers of [[["x-n", 1]], [["__proto__", "x"]], [[null, "x"]]]) {
    const results = deferred<Array<"ok" | Error>>();
    const { port } = await start(t, scripted([{ type: "http.response.start", status: 200, headers } as unknown as SendEvent, BODY], results.resolve));
    const { responses } = await rawRequest(port, GET, { responses: 1 });
    const [, body] = await results.promise;
    t.match(body, { name: "ProtocolError", message: /expected valid response header names and values/ }, JSON.stringify(headers));
    t.equal(responses[0].status, 500);
  }
});

t.test("an app that answers without reading the whole body: the rest is drained and keep-alive goes on", async (t) => {
  const answered = deferred();
  const { port } = await start(t, async (scope, receive, send) => {
    if (scope.type !== "http") return;
    if (scope.method === "POST") await receive(); // first chunk only
    await send(START);
    await send({ type: "http.response.body", body: scope.method });
    answered.resolve();
  });
  const socket = await openSocket(port);
  const result = collectResponses(socket, { responses: 2 });
  socket.write("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n");
  await answered.promise;
  socket.write("3\r\ndef\r\n0\r\n\r\n" + GET);
  const { responses } = await result;
  t.same(
    responses.map((r) => r.body),
    ["POST", "GET"],
  );
});

t.test("pre-read: a small body of known length reaches the app as one final event", async (t) => {
  const events: unknown[] = [];
  const app: App = async (scope, receive, send) => {
    if (scope.type !== "http") return;
    events.push(await receive());
    await send({ type: "http.response.start", status: 200, headers: [] });
    await send({ type: "http.response.body", body: "ok" });
  };
  const { port } = await start(t, app, {}, 64 * 1024);
  const socket = connect(port, "127.0.0.1");
  t.teardown(() => socket.destroy());
  // The body arrives in three writes; the app still sees one event, after the last.
  socket.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\nabc");
  await new Promise((resolve) => setImmediate(resolve));
  t.same(events, [], "the app has not run before the body is complete");
  socket.write("def");
  socket.write("ghi");
  const reply = await new Promise<string>((resolve) => {
    let text = "";
    socket.on("data", (chunk) => {
      text += chunk.toString();
      if (text.endsWith("ok")) resolve(text);
    });
  });
  t.match(reply, /^HTTP\/1\.1 200/);
  t.equal(events.length, 1);
  const event = events[0] as { type: string; body: Uint8Array; moreBody: boolean };
  t.equal(event.type, "http.request");
  t.equal(Buffer.from(event.body).toString(), "abcdefghi");
  t.equal(event.moreBody, false);
});

t.test("pre-read: a client that leaves mid-body never reaches the app, and the server keeps serving", async (t) => {
  let calls = 0;
  const app: App = async (scope, receive, send) => {
    if (scope.type !== "http") return;
    calls++;
    await receive();
    await send({ type: "http.response.start", status: 200, headers: [] });
    await send({ type: "http.response.body", body: "ok" });
  };
  const { port } = await start(t, app, {}, 64 * 1024);
  const socket = connect(port, "127.0.0.1");
  socket.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nhalf of it");
  await new Promise((resolve) => socket.once("connect", resolve));
  socket.destroy();
  const { responses } = await rawRequest(port, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi", {
    responses: 1,
  });
  t.equal(responses[0]!.status, 200);
  t.equal(calls, 1, "only the complete request ran the app");
});

t.test("a finished request no longer holds its exchange (node keeps it as the connection's last request)", async (t) => {
  /** The adapter's own symbol properties on the request that still hold a value. */
  const heldBy = (req: http.IncomingMessage): unknown[] =>
    Object.getOwnPropertySymbols(req)
      .filter((symbol) => symbol.description?.startsWith("laminar.") === true)
      .map((symbol) => (req as unknown as Record<symbol, unknown>)[symbol])
      .filter((value) => value !== undefined);
  for (const prereadLimit of [64 * 1024, 0]) {
    const label = prereadLimit === 0 ? "streamed body" : "pre-read body";
    const seen: http.IncomingMessage[] = [];
    const createServer = ((options: http.ServerOptions, listener: http.RequestListener) =>
      http.createServer(options, (req, res) => {
        seen.push(req);
        listener(req, res);
      })) as typeof http.createServer;
    const server = new NodeHttpServer({ createServer, prereadLimit });
    const during = deferred<number>();
    const { port } = await server.listen(
      async (_scope, receive, send) => {
        let event = await receive();
        while (event.type === "http.request" && event.moreBody === true) event = await receive();
        during.resolve(heldBy(seen[0]!).length);
        await send(START);
        await send(BODY);
      },
      { host: "127.0.0.1", port: 0, logger: capturingLogger() },
    );
    t.teardown(() => server.close({ timeout: 0 }));
    const socket = await openSocket(port);
    t.teardown(() => socket.destroy());
    socket.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
    await collectResponses(socket, { responses: 1 });
    t.equal(await during.promise, 0, `${label}: detached once the body is complete`);
    t.same(heldBy(seen[0]!), [], `${label}: nothing of the exchange is left on the request`);
  }
});

t.test("a header list shared between responses is written as given and never grows (writeHead takes it as is)", async (t) => {
  // No content-length: the adapter adds one, on a copy. Frozen, so a push onto it would throw.
  const shared = Object.freeze([Object.freeze(["content-type", "text/plain"]), Object.freeze(["set-cookie", "a=1"]), Object.freeze(["set-cookie", "b=2"])]) as unknown as [string, string][];
  const app: App = async (_scope, _receive, send) => {
    await send({ type: "http.response.start", status: 200, headers: shared });
    await send({ type: "http.response.body", body: "hello" });
  };
  const { port, logger } = await start(t, app);
  const { responses } = await rawRequest(port, GET + GET, { responses: 2 });
  t.equal(responses.length, 2);
  for (const response of responses) {
    t.equal(response.status, 200);
    t.equal(response.body, "hello");
    const names = response.rawHeaders.map(([name]) => name.toLowerCase());
    t.equal(response.headers["content-length"], "5", "the length was added");
    t.equal(names.filter((name) => name === "content-length").length, 1, "once");
    t.equal(names.filter((name) => name === "set-cookie").length, 2, "repeated names stay separate lines");
  }
  t.equal(shared.length, 3, "the app's list is unchanged");
  t.notOk(logger.entries.some((e) => e.level === "error"));
});
