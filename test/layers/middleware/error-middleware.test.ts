/**
 * The error and exception layers called directly: the synchronous fast path (an inner app that
 * completed inside the call) and every way out of the slow one.
 */
import t from "tap";
import type { App, HttpScope, Receive, Send, SendEvent } from "../../../layers/adapter/events.js";
import { SENT } from "../../../layers/adapter/events.js";
import { errorMiddleware } from "../../../layers/middleware/error-middleware.js";
import { defaultExceptionHandlers, exceptionMiddleware } from "../../../layers/middleware/exception-middleware.js";
import { deferAfterResponse } from "../../../layers/middleware/after-response.js";
import { HttpException } from "../../../lib/errors.js";
import { silentLogger, type Logger } from "../../../lib/logger.js";

function scope(): HttpScope {
  return { type: "http", method: "GET", path: "/x", headers: [] } as unknown as HttpScope;
}
const receive: Receive = () => Promise.resolve({ type: "http.disconnect" });

/** A send that records events and accepts them synchronously, as the node:http adapter does. */
function recordingSend(): { send: Send; events: SendEvent[] } {
  const events: SendEvent[] = [];
  return { events, send: (event) => (events.push(event), SENT) };
}

function recordingLogger(): { logger: Logger; errors: unknown[] } {
  const errors: unknown[] = [];
  const logger = Object.assign(Object.create(silentLogger) as Logger, { error: (fields: unknown) => void errors.push(fields) });
  return { logger, errors };
}

/** An inner app that answers 200 synchronously and returns what `send` returned. */
const answerNow: App = (_scope, _receive, send) => {
  void send({ type: "http.response.start", status: 200, headers: [] });
  return send({ type: "http.response.body", body: "ok", moreBody: false });
};

const statusOf = (events: SendEvent[]): number | undefined => (events[0] as { status?: number } | undefined)?.status;

t.test("a response completed inside the call comes back as SENT itself: no promise of the layer's own", async (t) => {
  const layer = errorMiddleware({ logger: silentLogger })(answerNow);
  const { send, events } = recordingSend();
  t.equal(layer(scope(), receive, send), SENT);
  t.equal(events.length, 2);
});

t.test("after-response work turns the fast path off: it runs before the layer's promise settles", async (t) => {
  const ran: string[] = [];
  const inner: App = (s, r, send) => {
    deferAfterResponse(s as HttpScope, () => void ran.push("cleanup"));
    return answerNow(s, r, send);
  };
  const result = errorMiddleware({ logger: silentLogger })(inner)(scope(), receive, recordingSend().send);
  t.not(result, SENT);
  t.same(ran, [], "not run synchronously");
  await result;
  t.same(ran, ["cleanup"]);
});

t.test("a synchronous throw before the response becomes a logged 500", async (t) => {
  const { logger, errors } = recordingLogger();
  const inner: App = () => {
    throw new Error("secret detail");
  };
  const { send, events } = recordingSend();
  await errorMiddleware({ logger })(inner)(scope(), receive, send);
  t.equal(statusOf(events), 500);
  t.notMatch(JSON.stringify(events), /secret detail/, "the message stays out of the body");
  t.equal(errors.length, 1);
});

t.test("a synchronous HttpException reaches the exception handlers sharing the frame", async (t) => {
  const inner: App = () => {
    throw new HttpException(404, "no such thing");
  };
  const { send, events } = recordingSend();
  await errorMiddleware({ logger: silentLogger, exceptions: defaultExceptionHandlers() })(inner)(scope(), receive, send);
  t.equal(statusOf(events), 404);
});

t.test("a failure after the response started is re-raised (the server then cuts the connection)", async (t) => {
  const { logger, errors } = recordingLogger();
  const inner: App = async (_s, _r, send) => {
    await send({ type: "http.response.start", status: 200, headers: [] });
    throw new Error("mid-body");
  };
  const { send } = recordingSend();
  const started: SendEvent[] = [];
  // A send that refuses a second start, as the adapters do.
  const strictSend: Send = (event) => {
    if (event.type === "http.response.start" && started.length > 0) return Promise.reject(new Error("already started"));
    started.push(event);
    return send(event);
  };
  await t.rejects(errorMiddleware({ logger })(inner)(scope(), receive, strictSend), { message: "mid-body" });
  t.equal(errors.length, 1, "logged once");
});

t.test("after-response work still runs when the request failed", async (t) => {
  const ran: string[] = [];
  const inner: App = (s) => {
    deferAfterResponse(s as HttpScope, () => void ran.push("cleanup"));
    throw new Error("boom");
  };
  const { send, events } = recordingSend();
  await errorMiddleware({ logger: silentLogger })(inner)(scope(), receive, send);
  t.equal(statusOf(events), 500);
  t.same(ran, ["cleanup"]);
});

t.test("an inner app that returns nothing is not an error", async (t) => {
  const { logger, errors } = recordingLogger();
  const { send, events } = recordingSend();
  await errorMiddleware({ logger })((() => undefined) as unknown as App)(scope(), receive, send);
  t.same(events, []);
  t.same(errors, []);
});

t.test("the exception layer: SENT passes through, a synchronous HttpException is answered, others go up", async (t) => {
  const layer = exceptionMiddleware(defaultExceptionHandlers());
  t.equal(layer(answerNow)(scope(), receive, recordingSend().send), SENT);

  const { send, events } = recordingSend();
  await layer(() => {
    throw new HttpException(418, "teapot");
  })(scope(), receive, send);
  t.equal(statusOf(events), 418);

  await t.rejects(
    layer(() => {
      throw new TypeError("not mine");
    })(scope(), receive, recordingSend().send),
    TypeError,
  );
});
