/**
 * EventSourceResponse and the event-stream format: the test-side parser checked against the
 * standard's own framing rules first (so it can be trusted), then the encoder (multi-line data with
 * CR, LF and CRLF, JSON, every field, and the refusal of values that would forge fields), the
 * response's headers and options, the ping timer (cleared on every way out, so nothing keeps the
 * process alive), and real sockets on node:http and uWS (uWS skipped where it cannot load): events
 * parsed as a browser would, pings while idle, a disconnect that stops the source and the pings,
 * a hostile event name, and Last-Event-ID.
 */
import t, { type Test } from "tap";
import { request } from "undici";
import { setTimeout as sleep } from "node:timers/promises";
import type { App as EventApp, HttpScope, Receive, ReceiveEvent, SendEvent } from "../../../layers/adapter/events.js";
import { App } from "../../../lib/app.js";
import { silentLogger } from "../../../lib/logger.js";
import { ClientDisconnectedError } from "../../../lib/errors.js";
import { EventSourceResponse, PING_COMMENT, formatServerSentEvent, lastEventId, type EventSourceItem } from "../../../layers/handler/sse.js";
import { requestSignal } from "../../../layers/middleware/request-signal.js";
import { loadUws } from "../../../layers/server/uws-load.js";
import { capturingLogger, deferred } from "../../conformance/server/test-apps.js";
import { EventStreamParser, readEventStream, type ParsedEvent, type ParsedItem } from "./event-stream-client.js";

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

function events(items: ParsedItem[]): Array<Omit<ParsedEvent, "kind">> {
  return items.flatMap((i) => (i.kind === "event" ? [{ type: i.type, data: i.data, lastEventId: i.lastEventId }] : []));
}

/** Parses `text` fed in pieces of `size` characters. */
function parseInPieces(text: string, size: number): { items: ParsedItem[]; parser: EventStreamParser } {
  const parser = new EventStreamParser();
  const items: ParsedItem[] = [];
  for (let i = 0; i < text.length; i += size) items.push(...parser.feed(text.slice(i, i + size)));
  return { items, parser };
}

t.test("the test parser follows the standard's framing", async (t) => {
  const stream =
    "\uFEFF: a comment\r\n" +
    "data: first\r\n" +
    "data:second\r\r" + // no space after the colon; CR line ends
    "event: custom\nid: 7\ndata\n\n" + // a field name alone: empty value
    "id: bad\0id\nretry: 1x\nretry: 250\nunknown: x\ndata:  two spaces\n\n" +
    "event: dropped\n\n"; // no data: not dispatched
  for (const size of [1, 2, 3, 7, stream.length]) {
    const { items, parser } = parseInPieces(stream, size);
    t.same(
      events(items),
      [
        { type: "message", data: "first\nsecond", lastEventId: "" },
        { type: "custom", data: "", lastEventId: "7" },
        { type: "message", data: " two spaces", lastEventId: "7" },
      ],
      `pieces of ${size}`,
    );
    t.same(items.filter((i) => i.kind === "comment"), [{ kind: "comment", text: "a comment" }]);
    t.equal(parser.retry, 250, "an invalid retry is ignored, a valid one kept");
  }
});

t.test("formatServerSentEvent: framing", async (t) => {
  t.equal(formatServerSentEvent("hello"), "data: hello\n\n", "a string is the data");
  t.equal(formatServerSentEvent("a\r\nb\rc\nd"), "data: a\ndata: b\ndata: c\ndata: d\n\n", "CRLF, CR and LF all split");
  t.equal(formatServerSentEvent("end\n"), "data: end\ndata: \n\n", "a trailing line break survives the round trip");
  t.equal(formatServerSentEvent(""), "data: \n\n", "empty data is still an event");
  t.equal(formatServerSentEvent({ data: { n: 1, s: "x\ny" } }), 'data: {"n":1,"s":"x\\ny"}\n\n', "non-string data is JSON");
  t.equal(formatServerSentEvent({ data: null }), "data: null\n\n");
  t.equal(
    formatServerSentEvent({ comment: "two\nlines", event: "update", id: 42, retry: 1500, data: "x" }),
    ": two\n: lines\nevent: update\nid: 42\nretry: 1500\ndata: x\n\n",
  );
  t.equal(formatServerSentEvent({ id: "" }), "id: \n\n", "an empty id (resets the client's last event ID)");

  // What a client makes of it: the data comes back, with CR and CRLF turned into LF.
  const data = "line 1\r\nline 2\rline 3\n\n:not a comment\ndata: not a field";
  const { items } = parseInPieces(formatServerSentEvent({ event: "e", id: "i", data }), 5);
  t.same(events(items), [{ type: "e", data: "line 1\nline 2\nline 3\n\n:not a comment\ndata: not a field", lastEventId: "i" }]);
});

t.test("formatServerSentEvent: values the format cannot carry are refused", async (t) => {
  const refused: Array<[string, unknown]> = [
    ["LF in event", { event: "evil\ndata: forged", data: "x" }],
    ["CR in event", { event: "evil\r", data: "x" }],
    ["NUL in event", { event: "a\0b" }],
    ["non-string event", { event: 5 }],
    ["LF in id", { id: "1\nevent: forged" }],
    ["CR in id", { id: "1\r" }],
    ["NUL in id", { id: "a\0b" }],
    ["object id", { id: {} }],
    ["negative retry", { retry: -1 }],
    ["fractional retry", { retry: 1.5 }],
    ["string retry", { retry: "10" }],
    ["NaN retry", { retry: Number.NaN }],
    ["unknown field", { message: "hi" }],
    ["function data", { data: () => 1 }],
    ["bigint data", { data: 1n }],
    ["null item", null],
    ["number item", 5],
    ["array item", ["data"]],
  ];
  for (const [what, item] of refused) t.throws(() => formatServerSentEvent(item as EventSourceItem), TypeError, what);
});

t.test("EventSourceResponse: headers and options", async (t) => {
  const res = new EventSourceResponse([]);
  t.same(res.headers, [
    ["content-type", "text/event-stream; charset=utf-8"],
    ["cache-control", "no-cache"],
    ["x-accel-buffering", "no"],
  ]);
  t.equal(res.status, 200);
  const own = new EventSourceResponse([], { status: 201, headers: { "Cache-Control": "no-store", "Content-Length": "10", "x-extra": "1" } });
  t.equal(own.status, 201);
  t.same(own.headers, [
    ["cache-control", "no-store"],
    ["x-extra", "1"],
    ["content-type", "text/event-stream; charset=utf-8"],
    ["x-accel-buffering", "no"],
  ], "the caller's cache-control wins; a content-length is dropped");
  for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31, "10"]) {
    t.throws(() => new EventSourceResponse([], { pingInterval: bad as number }), RangeError, `pingInterval ${String(bad)}`);
  }
  t.throws(() => new EventSourceResponse(5 as unknown as string[]), TypeError, "a source that is not iterable");
});

t.test("lastEventId reads the Last-Event-ID header", async (t) => {
  const scope = (headers: Array<[string, string]>): HttpScope =>
    ({ type: "http", method: "GET", path: "/", rawPath: "/", queryString: "", headers, httpVersion: "1.1", scheme: "http", client: null, server: null, rootPath: "", state: {} });
  t.equal(lastEventId(scope([["last-event-id", "41"]])), "41");
  t.equal(lastEventId(scope([["last-event-id", ""]])), undefined);
  t.equal(lastEventId(scope([])), undefined);
});

/** A recording `send`, and a `receive` that reports a disconnect when told to. */
function fakeChannels(): { sent: SendEvent[]; send: (e: SendEvent) => Promise<void>; receive: Receive; disconnect(): void } {
  const sent: SendEvent[] = [];
  const gone = deferred<ReceiveEvent>();
  return { sent, send: async (e) => void sent.push(e), receive: () => gone.promise, disconnect: () => gone.resolve({ type: "http.disconnect" }) };
}

function bodyText(sent: SendEvent[]): string {
  return sent.map((e) => (e.type === "http.response.body" ? Buffer.from(e.body ?? "").toString() : "")).join("");
}

function timerCount(): number {
  return process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
}

t.test("in-process: the ping timer is cleared on every way out", async (t) => {
  t.test("disconnect while the source is idle (and not abortable)", async (t) => {
    const ch = fakeChannels();
    const release = deferred();
    const stopped = deferred();
    const before = timerCount();
    const res = new EventSourceResponse((async function* () {
      try {
        yield "first";
        await release.promise;
        yield "second";
      } finally {
        stopped.resolve();
      }
    })(), { pingInterval: 5 });
    const sending = res.sendTo(ch.send, undefined, ch.receive);
    for (let i = 0; bodyText(ch.sent).split(PING_COMMENT).length < 3; i++) {
      if (i > 1000) throw new Error("timed out waiting for two pings");
      await sleep(5);
    }
    ch.disconnect();
    await within(sending, "sendTo to return after the disconnect");
    t.equal(timerCount(), before, "no timer left behind");
    const sentAtReturn = ch.sent.length;
    await sleep(30); // six ping intervals: a leaked timer would have sent
    t.equal(ch.sent.length, sentAtReturn, "nothing sent after the disconnect");
    // The generator was suspended at an await: its finally runs once that await settles.
    release.resolve();
    await within(stopped.promise, "the generator's finally once its await settled");
    t.equal(ch.sent.length, sentAtReturn, "and still nothing sent");
    t.match(bodyText(ch.sent), /^data: first\n\n(: ping\n\n)+$/);
  });

  t.test("the source ends, or throws", async (t) => {
    const before = timerCount();
    const ends = fakeChannels();
    await new EventSourceResponse((async function* () {
      yield "a";
      await sleep(20);
      yield "b";
    })(), { pingInterval: 5 }).sendTo(ends.send, undefined, ends.receive);
    t.match(bodyText(ends.sent), /^data: a\n\n(: ping\n\n)+data: b\n\n$/, "pings while the source waited");
    t.equal(timerCount(), before, "no timer left after the end");

    const boom = new Error("source failed");
    const throws = fakeChannels();
    await t.rejects(
      new EventSourceResponse((async function* () {
        yield "a";
        await sleep(20);
        throw boom;
      })(), { pingInterval: 5 }).sendTo(throws.send, undefined, throws.receive),
      boom,
    );
    t.equal(timerCount(), before, "no timer left after a failure");
  });

  t.test("pingInterval 0: no pings; a sync source needs none", async (t) => {
    const ch = fakeChannels();
    await new EventSourceResponse((async function* () {
      yield "a";
      await sleep(20);
      yield "b";
    })(), { pingInterval: 0 }).sendTo(ch.send, undefined, ch.receive);
    t.equal(bodyText(ch.sent), "data: a\n\ndata: b\n\n");
    const sync = fakeChannels();
    await new EventSourceResponse(["x", { event: "y", data: 1 }], { pingInterval: 1 }).sendTo(sync.send);
    t.equal(bodyText(sync.sent), "data: x\n\nevent: y\ndata: 1\n\n");
  });
});

async function listen(t: Test, app: App, server: "node" | "uws"): Promise<string> {
  const { url } = await app.listen({ host: "127.0.0.1", port: 0, server });
  t.teardown(() => app.close({ timeout: 0 }));
  return url;
}

/** Counts what the app sends after it returned (there should be nothing). */
function sendWatch(): { wrap: (next: EventApp) => EventApp; lateSends: number; returned: Promise<void> } {
  const done = deferred();
  const watch = {
    lateSends: 0,
    returned: done.promise,
    wrap: (next: EventApp): EventApp => async (scope, receive, send) => {
      if (scope.type !== "http" || scope.path !== "/idle") return next(scope, receive, send);
      let returned = false;
      try {
        await next(scope, receive, (event) => {
          if (returned) watch.lateSends++;
          return send(event);
        });
      } finally {
        returned = true;
        done.resolve();
      }
    },
  };
  return watch;
}

for (const server of ["node", "uws"] as const) {
  t.test(`EventSourceResponse over real sockets on ${server}`, { skip: server === "uws" ? uwsMissing : false }, async (t) => {
    t.test("events arrive as an EventSource would parse them", async (t) => {
      const app = new App({ logger: silentLogger, server });
      app.get("/events", () =>
        new EventSourceResponse((async function* () {
          yield "plain";
          yield { data: "multi\r\nline\rdata\nhere" };
          yield { event: "json", id: "1", data: { list: [1, 2], text: "a\nb" } };
          yield { comment: "just a comment" };
          yield { retry: 3000, id: 2, event: "last", data: "" };
        })()),
      );
      const url = await listen(t, app, server);
      const res = await request(`${url}/events`);
      t.equal(res.statusCode, 200);
      t.equal(res.headers["content-type"], "text/event-stream; charset=utf-8");
      t.equal(res.headers["cache-control"], "no-cache");
      t.equal(res.headers["x-accel-buffering"], "no");
      t.equal(res.headers["content-length"], undefined);
      const parser = new EventStreamParser();
      const items: ParsedItem[] = [];
      for await (const item of readEventStream(res.body, parser)) items.push(item);
      t.same(events(items), [
        { type: "message", data: "plain", lastEventId: "" },
        { type: "message", data: "multi\nline\ndata\nhere", lastEventId: "" },
        { type: "json", data: '{"list":[1,2],"text":"a\\nb"}', lastEventId: "1" },
        { type: "last", data: "", lastEventId: "2" },
      ]);
      t.same(JSON.parse(events(items)[2]!.data), { list: [1, 2], text: "a\nb" });
      t.same(items.filter((i) => i.kind === "comment"), [{ kind: "comment", text: "just a comment" }]);
      t.equal(parser.retry, 3000);
    });

    t.test("pings while idle; a disconnect stops the source (finally runs) and the pings", async (t) => {
      const app = new App({ logger: silentLogger, server });
      const watch = sendWatch();
      app.wrap(watch.wrap);
      const reason = deferred<unknown>();
      app.get("/idle", ({ scope }) =>
        new EventSourceResponse((async function* () {
          const signal = requestSignal(scope);
          try {
            yield { event: "hello", data: "world" };
            await sleep(2 ** 31 - 1, undefined, { signal }); // idle until the client leaves
          } finally {
            reason.resolve(signal.reason);
          }
        })(), { pingInterval: 20 }),
      );
      app.get("/ok", () => "ok");
      const url = await listen(t, app, server);
      const res = await request(`${url}/idle`);
      const seen: ParsedItem[] = [];
      await within((async () => {
        for await (const item of readEventStream(res.body)) {
          seen.push(item);
          if (seen.filter((i) => i.kind === "comment" && i.text === "ping").length >= 2) break; // disconnects
        }
      })(), "two pings");
      t.same(events(seen), [{ type: "hello", data: "world", lastEventId: "" }]);
      t.ok((await within(reason.promise, "the generator's finally")) instanceof ClientDisconnectedError);
      await within(watch.returned, "the app to return");
      await sleep(100); // five ping intervals
      t.equal(watch.lateSends, 0, "no ping (or anything) sent after the app returned");
      t.equal((await request(`${url}/ok`)).statusCode, 200, "the server keeps serving");
    });

    t.test("a busy source is stopped when the client leaves", async (t) => {
      const app = new App({ logger: silentLogger, server });
      const stopped = deferred<number>();
      app.get("/firehose", () =>
        new EventSourceResponse((async function* () {
          let n = 0;
          try {
            for (;;) yield { id: ++n, data: "x".repeat(1000) };
          } finally {
            stopped.resolve(n);
          }
        })()),
      );
      const url = await listen(t, app, server);
      const res = await request(`${url}/firehose`);
      let count = 0;
      for await (const item of readEventStream(res.body)) if (item.kind === "event" && ++count === 50) break;
      t.ok((await within(stopped.promise, "the generator's finally")) >= 50);
    });

    t.test("a hostile event name: refused, the connection cut, nothing forged, the source stopped", async (t) => {
      const logger = capturingLogger();
      const app = new App({ logger, server });
      const stopped = deferred();
      app.get("/hostile", () =>
        new EventSourceResponse((async function* () {
          try {
            yield { event: "fine", data: "before" };
            // A later turn: on uWS, a failure in the same turn as the first write loses the head
            // and the first chunk too (the connection is closed before the corked bytes go out).
            await sleep(1);
            yield { event: "x\ndata: forged\n", data: "payload" };
            yield "never";
          } finally {
            stopped.resolve();
          }
        })()),
      );
      app.get("/ok", () => "ok");
      const url = await listen(t, app, server);
      const res = await request(`${url}/hostile`);
      const seen: ParsedItem[] = [];
      await t.rejects(
        (async () => {
          for await (const item of readEventStream(res.body)) seen.push(item);
        })(),
        "the body ends abnormally",
      );
      t.same(events(seen), [{ type: "fine", data: "before", lastEventId: "" }], "only the event before; nothing forged");
      await within(stopped.promise, "the generator's finally");
      t.ok(logger.entries.some((e) => e.level === "error" && e.obj.err instanceof TypeError), "the refusal is logged");
      t.equal((await request(`${url}/ok`)).statusCode, 200);
    });

    t.test("Last-Event-ID lets a reconnecting client resume", async (t) => {
      const app = new App({ logger: silentLogger, server });
      app.get("/resume", ({ scope }) => {
        const from = Number(lastEventId(scope) ?? "0");
        return new EventSourceResponse([1, 2].map((i) => ({ id: from + i, data: `event ${from + i}` })));
      });
      const url = await listen(t, app, server);
      const res = await request(`${url}/resume`, { headers: { "last-event-id": "41" } });
      const items: ParsedItem[] = [];
      for await (const item of readEventStream(res.body)) items.push(item);
      t.same(events(items).map((e) => [e.lastEventId, e.data]), [["42", "event 42"], ["43", "event 43"]]);
    });
  });
}
