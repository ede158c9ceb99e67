import t from "tap";
import { SENT, type SendEvent } from "../../../layers/adapter/events.js";
import { compileRoute, type RouteCompileContext } from "../../../layers/handler/compile-route.js";
import type { RouteDeclaration } from "../../../layers/handler/route-definition.js";
import { AjvValidator } from "../../../layers/validator/ajv-validator.js";
import { FastJsonSerializer } from "../../../layers/serializer/fast-json-serializer.js";
import { TsyringeResolver } from "../../../layers/di/tsyringe-resolver.js";
import { httpScope } from "../../fixtures/scopes.js";

function context(): RouteCompileContext {
  return { validator: new AjvValidator(), serializer: new FastJsonSerializer(), resolver: new TsyringeResolver(), maxBodySize: 1024 };
}

const hello: RouteDeclaration = { methods: ["GET"], path: "/", options: {}, handler: () => ({ message: "hello" }) };
const receive = async () => ({ type: "http.request" as const, body: new Uint8Array(0), moreBody: false });

t.test("a server that accepts the start synchronously (SENT) gets the body in the same tick", async (t) => {
  const route = compileRoute(hello, context());
  const events: string[] = [];
  const done = route(httpScope(), receive, (event: SendEvent) => {
    events.push(event.type);
    return SENT;
  });
  t.same(events, ["http.response.start", "http.response.body"], "both sent before the first await");
  await done;
});

t.test("any other promise from send() is waited for before the body goes out", async (t) => {
  const route = compileRoute(hello, context());
  const events: string[] = [];
  let release!: () => void;
  const started = new Promise<void>((resolve) => (release = resolve));
  const done = route(httpScope(), receive, (event: SendEvent) => {
    events.push(event.type);
    return event.type === "http.response.start" ? started : Promise.resolve();
  });
  await Promise.resolve();
  t.same(events, ["http.response.start"], "the body waits for the start to be accepted");
  release();
  await done;
  t.same(events, ["http.response.start", "http.response.body"]);
});

t.test("validated path parameters are coerced for the handler; the scope keeps its strings", async (t) => {
  const { Type } = await import("@sinclair/typebox");
  let seen: unknown;
  const route = compileRoute(
    { methods: ["GET"], path: "/{id}", options: { params: Type.Object({ id: Type.Integer() }) }, handler: ({ params }) => (seen = params) },
    context(),
  );
  const scope = httpScope("GET", "/7", { pathParams: { id: "7" } });
  await route(scope, receive, () => SENT);
  t.strictSame(seen, { id: 7 });
  t.strictSame(scope.pathParams, { id: "7" }, "the router's strings are not coerced in place");
});

t.test("a body the server had in hand (receivedNow): parsed, validated, answered in the same call", async (t) => {
  const { receivedNow } = await import("../../../layers/adapter/events.js");
  const { Type } = await import("@sinclair/typebox");
  const Item = Type.Object({ name: Type.String({ minLength: 1 }) });
  const declaration: RouteDeclaration = {
    methods: ["POST"],
    path: "/items",
    options: { body: Item, status: 201 },
    handler: ({ body }: { body: { name: string } }) => ({ created: body.name }),
  } as unknown as RouteDeclaration;
  const route = compileRoute(declaration, context());
  const json = (text: string) => ({ type: "http.request" as const, body: Buffer.from(text), moreBody: false });
  const scope = () => httpScope("POST", "/items", { headers: [["content-type", "application/json"]] });

  const sent: SendEvent[] = [];
  const collect = (event: SendEvent) => {
    sent.push(event);
    return SENT;
  };
  const done = route(scope(), () => receivedNow(json('{"name":"pen"}')), collect);
  t.same(
    sent.map((e) => e.type),
    ["http.response.start", "http.response.body"],
    "both events sent before the first await: no microtask between body and response",
  );
  t.equal((sent[1] as { body: string }).body, '{"created":"pen"}');
  t.equal((sent[0] as { status: number }).status, 201);
  await done;

  // The same body in an ordinary resolved promise: awaited, same answer, but not in the same call.
  sent.length = 0;
  const later = route(scope(), async () => json('{"name":"pen"}'), collect);
  t.same(sent, [], "an ordinary promise is awaited, never peeked at");
  await later;
  t.equal((sent[1] as { body: string }).body, '{"created":"pen"}');

  // Invalid bodies in hand: the 422 (or 415) comes as a synchronous throw, which the error layer awaits like a rejection.
  t.throws(() => route(scope(), () => receivedNow(json('{"name":""}')), collect), { name: "RequestValidationError" });
  t.throws(() => route(scope(), () => receivedNow(json("{not json")), collect), { name: "RequestValidationError" });
  t.throws(
    () => route(httpScope("POST", "/items", { headers: [["content-type", "text/plain"]] }), () => receivedNow(json('{"name":"pen"}')), collect),
    { name: "UnsupportedMediaTypeError" },
  );

  // A first event in hand that is not the whole body: the rest is awaited.
  sent.length = 0;
  const parts = [receivedNow({ type: "http.request", body: Buffer.from('{"name":'), moreBody: true }), Promise.resolve(json('"ink"}'))];
  await route(scope(), () => parts.shift()!, collect);
  t.equal((sent[1] as { body: string }).body, '{"created":"ink"}', "a body in two pieces is joined");

  // Over the limit in one event in hand: refused by the general reader, not parsed.
  const big = compileRoute({ ...declaration, options: { ...declaration.options, bodyLimit: 8 } } as RouteDeclaration, context());
  await t.rejects(big(scope(), () => receivedNow(json('{"name":"a long name"}')), collect), { name: "BodyTooLargeError" });
});

t.test("receivedNow is only ever read back for its own promises", async (t) => {
  const { receivedNow, eventReceivedNow } = await import("../../../layers/adapter/events.js");
  const event = { type: "http.request" as const, body: new Uint8Array(0), moreBody: false };
  const mine = receivedNow(event);
  t.equal(eventReceivedNow(Promise.resolve(event)), undefined, "another promise: undefined");
  t.equal(eventReceivedNow(mine), event);
  t.equal(eventReceivedNow(mine), undefined, "read once: the event is not kept past its request");
  t.equal(await mine, event, "and it is an ordinary resolved promise too");
  const older = receivedNow(event);
  const newer = receivedNow({ ...event });
  t.equal(eventReceivedNow(older), undefined, "an older promise after a newer one: awaited instead");
  t.not(eventReceivedNow(newer), undefined);
});
