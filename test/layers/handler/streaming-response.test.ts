/**
 * StreamingResponse (and the stream-body machinery behind it): in-process checks of what goes
 * through `send()`, then real sockets on node:http and uWS (uWS skipped where it cannot load):
 * chunk order from an async generator, a sync iterable and a Readable; a client that disconnects
 * mid-stream, whether the producer is busy, idle at an `await`, or a Readable, makes the producer
 * stop and the server keeps serving; backpressure from a client that stops reading holds the
 * producer back; a producer that throws mid-stream gives a truncated response, not a clean end.
 */
import t, { type Test } from "tap";
import { request } from "undici";
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import type { Receive, ReceiveEvent, SendEvent } from "../../../layers/adapter/events.js";
import { App } from "../../../lib/app.js";
import { TestClient } from "../../../lib/test-client.js";
import { silentLogger } from "../../../lib/logger.js";
import { ClientDisconnectedError } from "../../../lib/errors.js";
import { StreamingResponse } from "../../../layers/handler/responses.js";
import { requestSignal } from "../../../layers/middleware/request-signal.js";
import { loadUws } from "../../../layers/server/uws-load.js";
import { openSocket, rawRequest } from "../../conformance/server/raw-http.js";
import { capturingLogger, deferred } from "../../conformance/server/test-apps.js";

let uwsMissing: string | false = false;
try {
  loadUws();
} catch (error) {
  uwsMissing = `uWebSockets.js unavailable: ${(error as Error).message}`;
}

/** Resolves with `promise`, or rejects once `ms` passed (the timer never outlives the wait). */
async function within<T>(promise: Promise<T>, what: string, ms = 5_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, guard]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits (bounded) until `predicate` holds, polling. */
async function until(predicate: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** A `send` that records events, and a `receive` that reports a disconnect when told to. */
function fakeChannels(): { events: SendEvent[]; send: (e: SendEvent) => Promise<void>; receive: Receive; disconnect(): void } {
  const events: SendEvent[] = [];
  const gone = deferred<ReceiveEvent>();
  let bodyRead = false;
  return {
    events,
    send: async (e) => void events.push(e),
    receive: () => {
      if (!bodyRead) {
        bodyRead = true;
        return Promise.resolve({ type: "http.request", body: new Uint8Array(0), moreBody: false });
      }
      return gone.promise;
    },
    disconnect: () => gone.resolve({ type: "http.disconnect" }),
  };
}

function bodies(events: SendEvent[]): Array<{ body: string; more: boolean }> {
  return events.flatMap((e) =>
    e.type === "http.response.body" ? [{ body: Buffer.from(e.body ?? "").toString(), more: e.moreBody === true }] : [],
  );
}

t.test("in-process: what goes through send()", async (t) => {
  t.test("a string is one chunk, not one per character; sync generators and arrays are iterated", async (t) => {
    const one = fakeChannels();
    await new StreamingResponse("hello", {}, "text/plain").sendTo(one.send);
    t.same(bodies(one.events), [{ body: "hello", more: true }, { body: "", more: false }]);
    t.match(one.events[0], { type: "http.response.start", status: 200, headers: [["content-type", "text/plain"]] });

    const gen = fakeChannels();
    await new StreamingResponse((function* () {
      yield "a";
      yield Buffer.from("b");
    })(), { status: 201, headers: { "Content-Type": "x/y" } }, "text/plain").sendTo(gen.send);
    t.same(bodies(gen.events).map((b) => b.body), ["a", "b", ""]);
    t.match(gen.events[0], { status: 201, headers: [["content-type", "x/y"]] }, "the caller's content-type wins");
  });

  t.test("a disconnect reported by receive() stops an endless generator and runs its finally", async (t) => {
    const ch = fakeChannels();
    let yielded = 0;
    const stopped = deferred();
    const response = new StreamingResponse((async function* () {
      try {
        for (;;) {
          yielded++;
          yield "x";
          if (yielded === 10) ch.disconnect();
        }
      } finally {
        stopped.resolve();
      }
    })());
    await within(response.sendTo(ch.send, undefined, ch.receive), "sendTo to return");
    await within(stopped.promise, "the generator's finally");
    t.ok(yielded >= 10 && yielded < 20, `stopped soon after the disconnect (yielded ${yielded})`);
    t.equal(bodies(ch.events).filter((b) => !b.more).length, 0, "no final chunk after a disconnect");
  });

  t.test("without receive(), the stream simply runs to its end", async (t) => {
    const ch = fakeChannels();
    await new StreamingResponse(["a", "b"]).sendTo(ch.send);
    t.same(bodies(ch.events).map((b) => b.body), ["a", "b", ""]);
  });

  t.test("a chunk that is neither string nor bytes is a TypeError, and the generator is stopped", async (t) => {
    const stopped = deferred();
    const app = new App({ logger: silentLogger });
    app.get("/bad", () =>
      new StreamingResponse((async function* () {
        try {
          yield "ok";
          yield 42 as unknown as string;
          yield "never";
        } finally {
          stopped.resolve();
        }
      })()),
    );
    await t.rejects(new TestClient(app).get("/bad"), TypeError);
    await within(stopped.promise, "the generator's finally");
    const res = await new TestClient(app, { raiseServerExceptions: false }).get("/bad");
    t.equal(res.complete, false, "the response was cut off, not completed");
  });

  t.test("a send() that rejects stops the generator and propagates", async (t) => {
    const stopped = deferred();
    const boom = new Error("send failed");
    const response = new StreamingResponse((async function* () {
      try {
        yield "a";
        yield "b";
      } finally {
        stopped.resolve();
      }
    })());
    let calls = 0;
    const send = async (): Promise<void> => {
      if (++calls === 2) throw boom;
    };
    await t.rejects(response.sendTo(send), boom);
    await within(stopped.promise, "the generator's finally");
  });

  t.test("an in-process client disconnect aborts the request signal with ClientDisconnectedError", async (t) => {
    const app = new App({ logger: silentLogger });
    const reason = deferred<unknown>();
    app.get("/idle", ({ scope }) =>
      new StreamingResponse((async function* () {
        const signal = requestSignal(scope);
        try {
          yield "first";
          await sleep(2 ** 31 - 1, undefined, { signal });
        } finally {
          reason.resolve(signal.reason);
        }
      })()),
    );
    // raiseServerExceptions off: the test client calls an early return after a disconnect an
    // incomplete response (the real adapters accept it), which is not what this test is about.
    const res = await within(new TestClient(app, { raiseServerExceptions: false }).get("/idle", { disconnect: true }), "the response");
    t.equal(res.complete, false);
    t.ok((await within(reason.promise, "the finally")) instanceof ClientDisconnectedError);
  });
});

/** Listens on 127.0.0.1:0 with `server`; closed at the end of the test. */
async function listen(t: Test, app: App, server: "node" | "uws"): Promise<string> {
  const { url } = await app.listen({ host: "127.0.0.1", port: 0, server });
  t.teardown(() => app.close({ timeout: 0 }));
  return url;
}

/** Reads `res.body` until `bytes` arrived, then destroys it (the client disconnects). */
async function readThenDisconnect(body: Readable, bytes: number): Promise<number> {
  let received = 0;
  for await (const chunk of body) {
    received += (chunk as Buffer).length;
    if (received >= bytes) break; // breaking out of for-await destroys the body
  }
  return received;
}

for (const server of ["node", "uws"] as const) {
  t.test(`StreamingResponse over real sockets on ${server}`, { skip: server === "uws" ? uwsMissing : false }, async (t) => {
    t.test("chunks arrive complete and in order from an async generator, a sync iterable and a Readable", async (t) => {
      const app = new App({ logger: silentLogger, server });
      const parts = Array.from({ length: 300 }, (_, i) => `chunk-${i};`);
      app.get("/async", () =>
        new StreamingResponse((async function* () {
          for (const [i, part] of parts.entries()) {
            if (i % 50 === 0) await sleep(1); // some chunks produced on a later turn
            yield part;
          }
        })(), { headers: { "content-type": "text/plain; charset=utf-8" } }),
      );
      app.get("/sync", () => new StreamingResponse(["α", Buffer.from("β"), "γ"], { status: 203 }));
      const bytes = Buffer.from(Array.from({ length: 200_000 }, (_, i) => i % 251));
      app.get("/readable", () => new StreamingResponse(Readable.from([bytes.subarray(0, 70_000), bytes.subarray(70_000)])));
      const url = await listen(t, app, server);

      const a = await request(`${url}/async`);
      t.equal(a.statusCode, 200);
      t.equal(a.headers["content-type"], "text/plain; charset=utf-8");
      t.equal(a.headers["content-length"], undefined, "no content-length: the server frames the stream");
      t.equal(await a.body.text(), parts.join(""));

      const s = await request(`${url}/sync`);
      t.equal(s.statusCode, 203);
      t.equal(await s.body.text(), "αβγ");

      const r = await request(`${url}/readable`);
      t.ok(Buffer.from(await r.body.arrayBuffer()).equals(bytes), "the Readable's bytes, unchanged");
    });

    t.test("a client that disconnects mid-stream stops a busy generator (finally runs); the server keeps serving", async (t) => {
      const app = new App({ logger: silentLogger, server });
      const stopped = deferred<number>();
      const piece = Buffer.alloc(16 * 1024, 0x61);
      app.get("/endless", () =>
        new StreamingResponse((async function* () {
          let n = 0;
          try {
            for (;;) {
              n++;
              yield piece;
            }
          } finally {
            stopped.resolve(n);
          }
        })()),
      );
      app.get("/ok", () => ({ ok: true }));
      const url = await listen(t, app, server);
      const res = await request(`${url}/endless`);
      t.ok((await readThenDisconnect(res.body, 64 * 1024)) >= 64 * 1024);
      const n = await within(stopped.promise, "the generator's finally after the disconnect");
      t.ok(n > 0, `the generator stopped after ${n} chunks`);
      const ok = await request(`${url}/ok`);
      t.same(await ok.body.json(), { ok: true });
    });

    t.test("a generator idle at an await is ended through the request signal on disconnect", async (t) => {
      const app = new App({ logger: silentLogger, server });
      const reason = deferred<unknown>();
      app.get("/idle", ({ scope }) =>
        new StreamingResponse((async function* () {
          const signal = requestSignal(scope);
          try {
            yield "first;";
            await sleep(2 ** 31 - 1, undefined, { signal }); // nothing more, ever, unless aborted
            yield "never";
          } finally {
            reason.resolve(signal.reason);
          }
        })()),
      );
      app.get("/ok", () => "ok");
      const url = await listen(t, app, server);
      const res = await request(`${url}/idle`);
      t.ok((await readThenDisconnect(res.body, 1)) > 0);
      t.ok((await within(reason.promise, "the finally of the idle generator")) instanceof ClientDisconnectedError);
      t.equal((await request(`${url}/ok`)).statusCode, 200);
    });

    t.test("a Readable is destroyed when the client disconnects", async (t) => {
      const app = new App({ logger: silentLogger, server });
      const closed = deferred();
      let pushed = 0;
      app.get("/readable", () => {
        const stream = new Readable({
          read() {
            pushed++;
            this.push(Buffer.alloc(16 * 1024, 0x62));
          },
        });
        stream.on("close", () => closed.resolve());
        return new StreamingResponse(stream);
      });
      const url = await listen(t, app, server);
      const res = await request(`${url}/readable`);
      await readThenDisconnect(res.body, 64 * 1024);
      await within(closed.promise, "the Readable's close");
      t.ok(pushed > 0);
    });

    t.test("backpressure: a client that stops reading holds the producer back", async (t) => {
      const app = new App({ logger: silentLogger, server });
      const TOTAL = 2048; // × 64 KiB = 128 MiB, far more than socket buffers hold
      const piece = Buffer.alloc(64 * 1024, 0x63);
      let yielded = 0;
      const stopped = deferred();
      app.get("/big", () =>
        new StreamingResponse((async function* () {
          try {
            while (yielded < TOTAL) {
              yielded++;
              yield piece;
            }
          } finally {
            stopped.resolve();
          }
        })()),
      );
      const url = await listen(t, app, server);
      const socket = await openSocket(Number(new URL(url).port));
      let received = 0;
      socket.on("data", (chunk: Buffer) => (received += chunk.length));
      socket.on("error", () => {});
      socket.write("GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
      await until(() => received > 0, "the first bytes");
      socket.pause(); // from here on the client reads nothing
      // Wait until the producer has stopped being asked for more (bounded), then compare counts.
      let last = -1;
      for (let i = 0; i < 200 && yielded !== last; i++) {
        last = yielded;
        await sleep(50);
      }
      t.ok(yielded < TOTAL / 4, `the producer was asked for ${yielded} of ${TOTAL} chunks while the client read ${received} bytes`);
      socket.destroy();
      // The send() waiting for the socket to drain is released by the close, and the stream stops.
      await within(stopped.promise, "the generator's finally after the paused client left");
      t.ok(yielded < TOTAL, "stopped before the end");
    });

    t.test("a producer that throws mid-stream: truncated response, connection closed, server survives", async (t) => {
      const logger = capturingLogger();
      const app = new App({ logger, server });
      const boom = new Error("producer failed");
      app.get("/throws", () =>
        new StreamingResponse((async function* () {
          yield "alpha;";
          await sleep(1);
          yield "beta;";
          throw boom;
        })()),
      );
      app.get("/ok", () => "fine");
      const url = await listen(t, app, server);
      const port = Number(new URL(url).port);
      const result = await rawRequest(port, "GET /throws HTTP/1.1\r\nHost: x\r\n\r\n");
      t.equal(result.closed, true, "the server closed the connection");
      t.equal(result.responses.length, 0, "no complete response");
      t.match(result.leftover, /^HTTP\/1\.1 200 /);
      t.match(result.leftover, /alpha;[\s\S]*beta;/);
      t.notMatch(result.leftover, /\r\n0\r\n\r\n$/, "no terminating chunk");
      await until(() => logger.entries.some((e) => e.level === "error" && e.obj.err === boom), "the error to be logged");

      const undiciRes = await request(`${url}/throws`);
      await t.rejects(undiciRes.body.text(), "undici sees the body end abnormally");
      const next = await rawRequest(port, "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n", { responses: 1 });
      t.equal(next.responses[0]?.status, 200);
    });
  });
}
