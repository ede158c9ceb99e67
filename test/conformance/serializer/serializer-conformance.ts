/**
 * The serializer conformance suite: every {@link Serializer} implementation runs it.
 *
 * It pins what the pipeline and users rely on: only declared fields leave the server (the
 * "never leak a password" rule), nested objects and arrays filtered the same way, `$ref` to
 * shared schemas, Dates as ISO text, and every unserializable value (circular, BigInt where JSON
 * has no room for it, a missing required field, null for a non-nullable response) as a
 * `SerializationError` naming the route, never invalid JSON or half a body.
 *
 * @module
 */
import { Type } from "@sinclair/typebox";
import type { Test } from "tap";
import { SchemaCompileError, SerializationError } from "../../../lib/errors.js";
import type { Serializer } from "../../../layers/serializer/serializer.js";

/** A serializer factory: a fresh instance per call. */
export type MakeSerializer = () => Serializer;

const User = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  email: Type.Optional(Type.String({ format: "email" })),
});

/** Runs the suite against `make`. */
export function serializerConformance(t: Test, name: string, make: MakeSerializer): Promise<void> {
  return t.test(`${name}: serializer conformance`, async (t) => {
    await t.test("undeclared fields never leave the server", async (t) => {
      const serialize = make().compile(User, "GET /users/{id}");
      const json = serialize({ id: 1, name: "ada", password: "hunter2", passwordHash: "$2b$...", email: "a@b.io" });
      t.same(JSON.parse(json), { id: 1, name: "ada", email: "a@b.io" });
      t.notMatch(json, /hunter2|password/);
    });

    await t.test("nested objects and arrays are filtered too", async (t) => {
      const schema = Type.Object({ users: Type.Array(User), meta: Type.Object({ total: Type.Integer() }) });
      const json = make().compile(schema, "GET /users")({
        users: [{ id: 1, name: "a", password: "p1" }, { id: 2, name: "b", token: "t" }],
        meta: { total: 2, internal: "x" },
        debug: true,
      });
      t.same(JSON.parse(json), { users: [{ id: 1, name: "a" }, { id: 2, name: "b" }], meta: { total: 2 } });
      t.same(JSON.parse(make().compile(Type.Array(User), "list")([{ id: 3, name: "c", secret: 1 }])), [{ id: 3, name: "c" }]);
    });

    await t.test("strings are escaped into valid JSON", async (t) => {
      const serialize = make().compile(Type.Object({ s: Type.String() }), "escape");
      const s = 'quote " backslash \\ newline \n tab \t nul \u0000 line-sep \u2028 emoji 😀 </script>';
      t.same(JSON.parse(serialize({ s })), { s });
    });

    await t.test("without a schema: JSON.stringify, undefined as null", async (t) => {
      const serialize = make().compile(undefined, "GET /raw");
      t.equal(serialize({ a: [1, "x", null], b: undefined }), '{"a":[1,"x",null]}');
      t.equal(serialize(undefined), "null");
      t.equal(serialize("text"), '"text"');
      t.equal(serialize(new Date(0)), '"1970-01-01T00:00:00.000Z"');
    });

    await t.test("Dates become ISO 8601 text", async (t) => {
      const serialize = make().compile(Type.Object({ at: Type.String({ format: "date-time" }), plain: Type.String() }), "dates");
      t.same(JSON.parse(serialize({ at: new Date(Date.UTC(2024, 0, 2, 3, 4, 5)), plain: new Date(0) })), {
        at: "2024-01-02T03:04:05.000Z",
        plain: "1970-01-01T00:00:00.000Z",
      });
      t.throws(() => serialize({ at: new Date(Number.NaN), plain: "x" }), SerializationError, "an invalid Date");
    });

    await t.test("circular values throw SerializationError", async (t) => {
      const cyclic: Record<string, unknown> = { id: 1 };
      cyclic.self = cyclic;
      t.throws(() => make().compile(undefined, "GET /cycle")(cyclic), SerializationError);
      t.throws(() => make().compile(Type.Object({ data: Type.Unknown() }), "GET /cycle")({ data: cyclic }), SerializationError);
      const tree = make().compile({ type: "object", properties: { id: { type: "integer" }, self: { $ref: "#" } } }, "GET /tree");
      t.throws(() => tree(cyclic), SerializationError, "a recursive schema fed a cycle");
    });

    await t.test("BigInt throws SerializationError where JSON has no room for it", async (t) => {
      t.throws(() => make().compile(undefined, "GET /big")({ n: 10n }), SerializationError);
      t.throws(() => make().compile(Type.Object({ n: Type.Unknown() }), "GET /big")({ n: 10n }), SerializationError);
    });

    await t.test("a missing required field throws SerializationError naming the route", async (t) => {
      const serialize = make().compile(User, "GET /users/{id}");
      for (const value of [{ id: 1 }, { id: 1, name: undefined }, { name: "x" }]) {
        t.throws(() => serialize(value), { name: "SerializationError", message: /GET \/users\/\{id\}/ }, JSON.stringify(value));
      }
    });

    await t.test("null or the wrong JSON type at the top level is an error, not an empty body", async (t) => {
      const s = make();
      const object = s.compile(User, "GET /users/{id}");
      for (const value of [null, undefined, "x", 5, [{ id: 1, name: "a" }]]) {
        t.throws(() => object(value), SerializationError, `object schema given ${JSON.stringify(value)}`);
      }
      const list = s.compile(Type.Array(Type.Integer()), "GET /ids");
      for (const value of [null, { 0: 1 }, "1,2"]) t.throws(() => list(value), SerializationError, `array schema given ${JSON.stringify(value)}`);
      const nullable = s.compile(Type.Union([User, Type.Null()]), "GET /maybe");
      t.equal(nullable(null), "null");
      t.same(JSON.parse(nullable({ id: 1, name: "a", extra: 1 })), { id: 1, name: "a" });
      t.equal(s.compile({ type: ["object", "null"], properties: { a: { type: "string" } } }, "n")(undefined), "null");
    });

    await t.test("wrong nested types never produce invalid JSON", async (t) => {
      const serialize = make().compile(
        Type.Object({ n: Type.Optional(Type.Integer()), s: Type.Optional(Type.String()), o: Type.Optional(Type.Object({ a: Type.String() })) }),
        "mixed",
      );
      for (const value of [{ n: "abc" }, { n: Number.NaN }, { s: { toString: null } }, { o: "str" }, { s: Symbol("x") }, { n: "12" }, { s: 5 }]) {
        let json: string | undefined;
        try {
          json = serialize(value);
        } catch (error) {
          t.type(error, SerializationError, String(Object.keys(value)));
          continue;
        }
        t.doesNotThrow(() => JSON.parse(json!), `valid JSON: ${json}`);
      }
    });

    await t.test("$ref to a shared schema", async (t) => {
      const s = make();
      s.addSchema(Type.Object({ id: Type.Integer(), title: Type.String() }, { $id: "Book" }));
      const serialize = s.compile(Type.Object({ books: Type.Array(Type.Ref("Book")) }), "GET /books");
      t.same(JSON.parse(serialize({ books: [{ id: 1, title: "Dune", isbn: "x" }] })), { books: [{ id: 1, title: "Dune" }] });
    });

    await t.test("schemas are compiled once, at compile time", async (t) => {
      const s = make();
      t.throws(() => s.compile({ type: "wat" }, "GET /bad"), SchemaCompileError);
      t.throws(() => s.compile({ type: "object", properties: { a: { $ref: "NotAdded" } } }, "GET /bad"), SchemaCompileError);
      const serialize = s.compile(User, "GET /u");
      t.equal(serialize({ id: 1, name: "a" }), serialize({ id: 1, name: "a" }));
    });
  }).then(() => undefined);
}
