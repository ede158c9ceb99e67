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
