import t from "tap";
import { Type } from "@sinclair/typebox";
import { SchemaCompileError, SerializationError } from "../../../lib/errors.js";
import { FastJsonSerializer } from "../../../layers/serializer/fast-json-serializer.js";
import { serializerConformance } from "./serializer-conformance.js";

await serializerConformance(t, "FastJsonSerializer", () => new FastJsonSerializer());

// fast-json-stringify's documented conversions (see the table in fast-json-serializer.ts):
// pinned so that an upgrade that changes them is noticed.
t.test("FastJsonSerializer: documented conversions", async (t) => {
  const serialize = new FastJsonSerializer().compile(
    Type.Object({ n: Type.Optional(Type.Integer()), s: Type.Optional(Type.String()), b: Type.Optional(Type.Boolean()), o: Type.Optional(Type.Object({})) }),
    "conversions",
  );
  t.equal(serialize({ n: "12" }), '{"n":12}');
  t.equal(serialize({ n: 1.7 }), '{"n":1}');
  t.equal(serialize({ n: 10n }), '{"n":10}');
  t.equal(serialize({ s: 5 }), '{"s":"5"}');
  t.equal(serialize({ b: "false" }), '{"b":true}');
  t.equal(serialize({ o: "x" }), '{"o":{}}');
  t.throws(() => serialize({ n: "abc" }), SerializationError);
});

t.test("FastJsonSerializer: addSchema needs an $id; later schemas do not affect compiled ones", async (t) => {
  const s = new FastJsonSerializer();
  t.throws(() => s.addSchema({ type: "object" }), SchemaCompileError);
  t.throws(() => s.compile(Type.Ref("Later"), "early"), SchemaCompileError);
  s.addSchema(Type.Object({ a: Type.Integer() }, { $id: "Later" }));
  t.equal(s.compile(Type.Ref("Later"), "late")({ a: 1, b: 2 }), '{"a":1}');
});

t.test("FastJsonSerializer: errors carry no stack in their message", async (t) => {
  const cyclic: Record<string, unknown> = {};
  cyclic.c = cyclic;
  try {
    new FastJsonSerializer().compile(undefined, "GET /x")(cyclic);
    t.fail("should throw");
  } catch (error) {
    t.type(error, SerializationError);
    t.equal((error as Error).message.split("\n").length, 1);
    t.match((error as Error).message, /^Could not serialize the response of GET \/x: Converting circular structure to JSON/);
  }
});
