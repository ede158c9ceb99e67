/**
 * The response protocol state machine, on its own: every transition and every message.
 */
import t from "tap";
import type { HttpResponseBodyEvent, HttpResponseStartEvent, SendEvent } from "../../../layers/adapter/events.js";
import {
  RESPONSE_COMPLETE,
  RESPONSE_IDLE,
  RESPONSE_STARTED,
  advanceResponseState,
  checkSendEvent,
  protocolError,
  responseNotCompleted,
} from "../../../layers/adapter/protocol-state.js";

const start: SendEvent = { type: "http.response.start", status: 200, headers: [] };
const more: SendEvent = { type: "http.response.body", body: "a", moreBody: true };
const last: SendEvent = { type: "http.response.body", body: "b" };
const lastExplicit: SendEvent = { type: "http.response.body", moreBody: false };
const lifespan: SendEvent = { type: "lifespan.startup.complete" };

t.test("the allowed path: start, any number of moreBody chunks, a final body", async (t) => {
  let s = advanceResponseState(RESPONSE_IDLE, start);
  t.equal(s, RESPONSE_STARTED);
  s = advanceResponseState(s, more);
  s = advanceResponseState(s, more);
  t.equal(s, RESPONSE_STARTED);
  t.equal(advanceResponseState(s, last), RESPONSE_COMPLETE, "moreBody absent: final");
  t.equal(advanceResponseState(s, lastExplicit), RESPONSE_COMPLETE, "moreBody false: final");
});

t.test("every forbidden transition names what was expected and what came", async (t) => {
  const cases: Array<[0 | 1 | 2, SendEvent, string]> = [
    [RESPONSE_IDLE, more, "expected http.response.start, got http.response.body"],
    [RESPONSE_IDLE, last, "expected http.response.start, got http.response.body"],
    [RESPONSE_IDLE, lifespan, "expected http.response.start, got lifespan.startup.complete"],
    [RESPONSE_STARTED, start, "expected http.response.body, got http.response.start"],
    [RESPONSE_STARTED, lifespan, "expected http.response.body, got lifespan.startup.complete"],
    [RESPONSE_COMPLETE, start, "expected nothing (response complete), got http.response.start"],
    [RESPONSE_COMPLETE, last, "expected nothing (response complete), got http.response.body"],
    [RESPONSE_COMPLETE, more, "expected nothing (response complete), got http.response.body"],
  ];
  for (const [state, event, message] of cases) {
    t.throws(() => advanceResponseState(state, event), { name: "ProtocolError", code: "LMR_ERR_PROTOCOL", statusCode: 500, message: `Protocol error: ${message}` });
  }
});

t.test("non-events are described, not dereferenced", async (t) => {
  t.match(protocolError(RESPONSE_IDLE, null as unknown as SendEvent), { message: "Protocol error: expected http.response.start, got null" });
  t.match(protocolError(RESPONSE_IDLE, "x" as unknown as SendEvent), { message: /got string$/ });
  t.match(protocolError(RESPONSE_STARTED, { type: 7 } as unknown as SendEvent), { message: /got an object without a string type$/ });
});

t.test("responseNotCompleted: null when complete, otherwise says how far the app got", async (t) => {
  t.equal(responseNotCompleted(RESPONSE_COMPLETE), null);
  t.match(responseNotCompleted(RESPONSE_IDLE), { name: "ResponseNotCompletedError", code: "LMR_ERR_RESPONSE_NOT_COMPLETED", message: /no http.response.start sent/ });
  t.match(responseNotCompleted(RESPONSE_STARTED), { message: /response started, final http.response.body not sent/ });
});

t.test("checkSendEvent: the checks every adapter's send() shares", async (t) => {
  const start: HttpResponseStartEvent = { type: "http.response.start", status: 200, headers: [] };
  const body: HttpResponseBodyEvent = { type: "http.response.body", body: "x" };
  t.equal(checkSendEvent(RESPONSE_IDLE, start), null);
  t.equal(checkSendEvent(RESPONSE_STARTED, body), null);
  t.match(checkSendEvent(RESPONSE_IDLE, body), { message: "Protocol error: expected http.response.start, got http.response.body" });
  t.match(checkSendEvent(RESPONSE_STARTED, start), { message: /expected http.response.body, got http.response.start/ });
  t.match(checkSendEvent(RESPONSE_COMPLETE, body), { message: /expected nothing/ });
  t.match(checkSendEvent(RESPONSE_IDLE, { ...start, status: 99 }), { message: /integer status between 100 and 599/ });
  t.match(checkSendEvent(RESPONSE_IDLE, { ...start, status: 200.5 }), { message: /integer status/ });
  t.match(checkSendEvent(RESPONSE_IDLE, { ...start, headers: "x" as never }), { message: /array of \[name, value\] pairs/ });
  t.match(checkSendEvent(RESPONSE_STARTED, { ...body, body: 42 as never }), { message: /string or Uint8Array body/ });
  t.match(checkSendEvent(RESPONSE_IDLE, null as never), { message: /got null/ });
});
