/**
 * The validator conformance suite: every {@link Validator} implementation runs it.
 *
 * It pins the contract the pipeline relies on: every problem reported (not the first), located
 * from the input location down (array indices as numbers), pydantic-v2 issue types and messages
 * for the common checks, coercion only when asked, defaults applied, formats checked, TypeBox
 * schemas accepted as they are, `$ref` to added schemas, and bad schemas refused at compile time.
 *
 * @module
 */
import { Type } from "@sinclair/typebox";
import type { Test } from "tap";
import { SchemaCompileError, type ValidationIssue } from "../../../lib/errors.js";
import type { CheckResult, JsonSchema, Validator } from "../../../layers/validator/validator.js";

/** A validator factory: a fresh instance per call. */
export type MakeValidator = () => Validator;

function issuesOf<T>(t: Test, result: CheckResult<T>): ValidationIssue[] {
  if (result.ok) {
    t.fail("expected the check to fail", { value: result.value });
    return [];
  }
  return result.issues;
}

function valueOf<T>(t: Test, result: CheckResult<T>): T | undefined {
  if (!result.ok) {
    t.fail("expected the check to pass", { issues: result.issues });
    return undefined;
  }
  return result.value;
}

/** Issues without `input`/`ctx`, sorted by loc, for order-independent comparison. */
function brief(issues: ValidationIssue[]): Array<{ loc: Array<string | number>; type: string }> {
  return issues.map((i) => ({ loc: i.loc, type: i.type })).sort((a, b) => JSON.stringify(a.loc).localeCompare(JSON.stringify(b.loc)));
}

const Book = Type.Object({
  title: Type.String({ minLength: 1, maxLength: 20 }),
  price: Type.Number({ minimum: 0 }),
  year: Type.Integer({ exclusiveMinimum: 1400, exclusiveMaximum: 3000 }),
  tags: Type.Optional(Type.Array(Type.String({ pattern: "^[a-z]+$" }), { minItems: 1, maxItems: 3 })),
  author: Type.Object({ email: Type.String({ format: "email" }) }),
  kind: Type.Union([Type.Literal("paper"), Type.Literal("ebook")]),
});

/** Runs the suite against `make`. */
export function validatorConformance(t: Test, name: string, make: MakeValidator): Promise<void> {
  return t.test(`${name}: validator conformance`, async (t) => {
    await t.test("a valid TypeBox body passes and is returned", async (t) => {
      const check = make().compile(Book, { location: "body", coerce: false });
      const body = { title: "Dune", price: 9.5, year: 1965, tags: ["scifi"], author: { email: "frank@example.com" }, kind: "paper" };
      t.same(valueOf(t, check(body)), body);
    });

    await t.test("every error is collected, each located", async (t) => {
      const check = make().compile(Book, { location: "body", coerce: false });
      const issues = issuesOf(t, check({ title: "", price: -1, year: 1400, tags: ["ok", "NO", "x"], author: { email: "nope" }, kind: "vinyl" }));
      t.same(brief(issues), [
        { loc: ["body", "author", "email"], type: "value_error" },
        { loc: ["body", "kind"], type: "literal_error" },
        { loc: ["body", "price"], type: "greater_than_equal" },
        { loc: ["body", "tags", 1], type: "string_pattern_mismatch" },
        { loc: ["body", "title"], type: "string_too_short" },
        { loc: ["body", "year"], type: "greater_than" },
      ]);
      for (const issue of issues) {
        t.type(issue.msg, "string");
        t.notMatch(issue.msg, /\n\s+at /, "no stack trace in messages");
      }
    });

    await t.test("pydantic messages and ctx for constraints", async (t) => {
      const check = make().compile(Book, { location: "body", coerce: false });
      const issues = issuesOf(t, check({ title: "x".repeat(21), price: -1, year: 3000, tags: [], author: {}, kind: "paper" }));
      const by = (type: string): ValidationIssue | undefined => issues.find((i) => i.type === type);
      t.match(by("string_too_long"), { msg: "String should have at most 20 characters", ctx: { max_length: 20 }, loc: ["body", "title"] });
      t.match(by("greater_than_equal"), { msg: "Input should be greater than or equal to 0", ctx: { ge: 0 }, input: -1 });
      t.match(by("less_than"), { msg: "Input should be less than 3000", ctx: { lt: 3000 } });
      t.match(by("too_short"), { msg: "List should have at least 1 item after validation, not 0", ctx: { min_length: 1 }, loc: ["body", "tags"] });
      t.match(by("missing"), { msg: "Field required", loc: ["body", "author", "email"] });
      const short = issuesOf(t, make().compile(Type.String({ minLength: 1 }), { location: "body", coerce: false })(""));
      t.match(short, [{ msg: "String should have at least 1 character", type: "string_too_short", ctx: { min_length: 1 } }]);
    });

    await t.test("missing required fields: one issue each, loc ends with the field", async (t) => {
      const check = make().compile(Book, { location: "body", coerce: false });
      const issues = issuesOf(t, check({}));
      t.same(
        issues.map((i) => i.loc[1]).sort(),
        ["author", "kind", "price", "title", "year"],
      );
      t.ok(issues.every((i) => i.type === "missing" && i.msg === "Field required" && i.loc.length === 2));
    });

    await t.test("inherited properties do not satisfy required", async (t) => {
      const check = make().compile(Type.Object({ toString: Type.String(), constructor: Type.String() }), { location: "body", coerce: false });
      t.same(brief(issuesOf(t, check({}))), [
        { loc: ["body", "constructor"], type: "missing" },
        { loc: ["body", "toString"], type: "missing" },
      ]);
    });

    await t.test("body values are not coerced: JSON types are real types", async (t) => {
      const check = make().compile(Type.Object({ n: Type.Integer(), f: Type.Number(), b: Type.Boolean(), s: Type.String(), a: Type.Array(Type.Integer()), o: Type.Object({}) }), {
        location: "body",
        coerce: false,
      });
      const issues = issuesOf(t, check({ n: "5", f: "1.5", b: "true", s: 5, a: 1, o: [] }));
      t.same(brief(issues), [
        { loc: ["body", "a"], type: "list_type" },
        { loc: ["body", "b"], type: "bool_type" },
        { loc: ["body", "f"], type: "float_type" },
        { loc: ["body", "n"], type: "int_type" },
        { loc: ["body", "o"], type: "dict_type" },
        { loc: ["body", "s"], type: "string_type" },
      ]);
      t.match(issues.find((i) => i.type === "int_type"), { msg: "Input should be a valid integer", input: "5" });
      const frac = issuesOf(t, check({ n: 1.5, f: 1, b: true, s: "", a: [], o: {} }));
      t.match(frac, [{ loc: ["body", "n"], type: "int_from_float" }]);
    });

    await t.test("query values are coerced when asked, with parsing errors when they cannot be", async (t) => {
      const schema = Type.Object({ limit: Type.Integer({ minimum: 1 }), ratio: Type.Optional(Type.Number()), flag: Type.Optional(Type.Boolean()) });
      const check = make().compile(schema, { location: "query", coerce: true });
      t.same(valueOf(t, check({ limit: "5", ratio: "0.5", flag: "true" })), { limit: 5, ratio: 0.5, flag: true });
      const issues = issuesOf(t, check({ limit: "abc", ratio: "x", flag: "maybe" }));
      t.same(brief(issues), [
        { loc: ["query", "flag"], type: "bool_parsing" },
        { loc: ["query", "limit"], type: "int_parsing" },
        { loc: ["query", "ratio"], type: "float_parsing" },
      ]);
      t.match(issues.find((i) => i.type === "int_parsing"), {
        msg: "Input should be a valid integer, unable to parse string as an integer",
        input: "abc",
      });
      t.match(issuesOf(t, check({ limit: "0" })), [{ loc: ["query", "limit"], type: "greater_than_equal" }]);
    });

    await t.test("coercion between single values and arrays", async (t) => {
      const check = make().compile(Type.Object({ tag: Type.Array(Type.String()), id: Type.Integer() }), { location: "query", coerce: true });
      t.same(valueOf(t, check({ tag: "a", id: ["7"] })), { tag: ["a"], id: 7 });
      t.same(valueOf(t, check({ tag: ["a", "b"], id: "1" })), { tag: ["a", "b"], id: 1 });
      t.match(issuesOf(t, check({ tag: "a", id: ["1", "2"] })), [{ loc: ["query", "id"], type: "int_type" }]);
      const ids = make().compile(Type.Object({ ids: Type.Array(Type.Integer()) }), { location: "query", coerce: true });
      t.same(valueOf(t, ids({ ids: ["1", "2"] })), { ids: [1, 2] });
      t.match(issuesOf(t, ids({ ids: ["1", "x"] })), [{ loc: ["query", "ids", 1], type: "int_parsing" }]);
    });

    await t.test("a top-level scalar is coerced and returned", async (t) => {
      const check = make().compile({ type: "integer" }, { location: "path", coerce: true });
      t.equal(valueOf(t, check("42")), 42);
      t.equal(valueOf(t, check(["42"])), 42);
      t.match(issuesOf(t, check("x")), [{ loc: ["path"], type: "int_parsing" }]);
      t.match(issuesOf(t, check(undefined)), [{ loc: ["path"], type: "missing" }]);
    });

    await t.test("defaults are applied", async (t) => {
      const check = make().compile(Type.Object({ limit: Type.Integer({ default: 20 }), q: Type.Optional(Type.String()) }), {
        location: "query",
        coerce: true,
      });
      t.same(valueOf(t, check({})), { limit: 20 });
      t.same(valueOf(t, check({ limit: "5", q: "x" })), { limit: 5, q: "x" });
    });

    await t.test("every location is the first element of loc", async (t) => {
      const v = make();
      for (const location of ["path", "query", "header", "cookie", "body"] as const) {
        const check = v.compile(Type.Object({ x: Type.Integer() }), { location, coerce: location !== "body" });
        t.same(issuesOf(t, check({})).map((i) => i.loc), [[location, "x"]], location);
      }
    });

    await t.test("object keys that look like numbers stay strings; array indices are numbers", async (t) => {
      const check = make().compile(
        Type.Object({ m: Type.Record(Type.String(), Type.Integer()), l: Type.Array(Type.Integer()) }),
        { location: "body", coerce: false },
      );
      t.same(brief(issuesOf(t, check({ m: { "0": "x" }, l: [1, "x"] }))), [
        { loc: ["body", "l", 1], type: "int_type" },
        { loc: ["body", "m", "0"], type: "int_type" },
      ]);
    });

    await t.test("keys with / and ~ are decoded from the JSON pointer", async (t) => {
      const check = make().compile({ type: "object", properties: { "a/b": { type: "integer" }, "c~d": { type: "integer" } } }, { location: "body", coerce: false });
      t.same(brief(issuesOf(t, check({ "a/b": "x", "c~d": "y" }))), [
        { loc: ["body", "a/b"], type: "int_type" },
        { loc: ["body", "c~d"], type: "int_type" },
      ]);
    });

    await t.test("formats are checked", async (t) => {
      const check = make().compile(
        Type.Object({ email: Type.String({ format: "email" }), at: Type.String({ format: "date-time" }), id: Type.String({ format: "uuid" }) }),
        { location: "body", coerce: false },
      );
      t.ok(check({ email: "a@b.io", at: "2024-01-02T03:04:05Z", id: "123e4567-e89b-12d3-a456-426614174000" }).ok);
      const issues = issuesOf(t, check({ email: "a@", at: "yesterday", id: "123" }));
      t.equal(issues.length, 3);
      for (const issue of issues) t.equal(issue.type, "value_error");
      t.match(issues.find((i) => i.loc[1] === "email")?.msg, /email/);
      t.match(issues.find((i) => i.loc[1] === "at")?.msg, /date-time/);
    });

    await t.test("additionalProperties: false reports each extra key", async (t) => {
      const check = make().compile(Type.Object({ a: Type.Integer() }, { additionalProperties: false }), { location: "body", coerce: false });
      const issues = issuesOf(t, check({ a: 1, b: 2, c: { d: 1 } }));
      t.same(brief(issues), [
        { loc: ["body", "b"], type: "extra_forbidden" },
        { loc: ["body", "c"], type: "extra_forbidden" },
      ]);
      t.match(issues[0], { msg: "Extra inputs are not permitted" });
      t.ok(make().compile(Type.Object({ a: Type.Integer() }), { location: "body", coerce: false })({ a: 1, extra: true }).ok, "ignored unless forbidden");
    });

    await t.test("enum and const", async (t) => {
      const check = make().compile({ type: "object", properties: { e: { enum: ["a", "b", "c"] }, c: { const: 3 } } }, { location: "body", coerce: false });
      const issues = issuesOf(t, check({ e: "z", c: 4 }));
      t.match(issues.find((i) => i.loc[1] === "e"), { type: "enum", msg: "Input should be 'a', 'b' or 'c'" });
      t.match(issues.find((i) => i.loc[1] === "c"), { type: "literal_error", msg: "Input should be 3" });
    });

    await t.test("unions collapse to one clear issue", async (t) => {
      const v = make();
      const literals = v.compile(Type.Object({ kind: Type.Union([Type.Literal("a"), Type.Literal("b")]) }), { location: "body", coerce: false });
      t.same(issuesOf(t, literals({ kind: "c" })).map((i) => [i.loc, i.type, i.msg]), [[["body", "kind"], "literal_error", "Input should be 'a' or 'b'"]]);

      const nullable = v.compile(Type.Object({ name: Type.Union([Type.String(), Type.Null()]) }), { location: "body", coerce: false });
      t.ok(nullable({ name: null }).ok);
      const n = issuesOf(t, nullable({ name: 5 }));
      t.equal(n.length, 1);
      t.match(n[0], { loc: ["body", "name"], msg: /string/ });

      const short = issuesOf(t, v.compile(Type.Object({ name: Type.Union([Type.String({ minLength: 3 }), Type.Null()]) }), { location: "body", coerce: false })({ name: "ab" }));
      t.match(short, [{ loc: ["body", "name"], type: "string_too_short" }], "the one branch the input fits reports its own issue");

      const pets = v.compile(
        Type.Object({
          pet: Type.Union([
            Type.Object({ kind: Type.Literal("cat"), lives: Type.Integer() }),
            Type.Object({ kind: Type.Literal("dog"), good: Type.Boolean() }),
          ]),
        }),
        { location: "body", coerce: false },
      );
      t.ok(pets({ pet: { kind: "dog", good: true } }).ok);
      t.same(brief(issuesOf(t, pets({ pet: { kind: "dog", good: "yes" } }))), [{ loc: ["body", "pet", "good"], type: "bool_type" }], "tagged union: the tagged branch's issues");
      const none = issuesOf(t, pets({ pet: { kind: "fish" } }));
      t.equal(none.length, 1, "no branch fits: one issue");
      t.match(none[0], { loc: ["body", "pet"], type: "union_tag_invalid", msg: /'fish'.*'cat', 'dog'/ });
      t.match(issuesOf(t, pets({ pet: {} })), [{ loc: ["body", "pet"], type: "union_tag_not_found" }]);
      const shapes = v.compile(Type.Union([Type.Object({ a: Type.Integer() }), Type.Object({ b: Type.Integer() })]), { location: "body", coerce: false });
      t.match(issuesOf(t, shapes({ c: 1 })), [{ loc: ["body"], type: "union_type", msg: "Input does not match any of the allowed schemas" }]);
    });

    await t.test("$ref to an added $id schema", async (t) => {
      const v = make();
      v.addSchema(Type.Object({ isbn: Type.String({ minLength: 10 }) }, { $id: "Isbn" }));
      const check = v.compile(Type.Object({ books: Type.Array(Type.Ref("Isbn")) }), { location: "body", coerce: false });
      t.ok(check({ books: [{ isbn: "0123456789" }] }).ok);
      t.same(brief(issuesOf(t, check({ books: [{ isbn: "0123456789" }, { isbn: "1" }, {}] }))), [
        { loc: ["body", "books", 1, "isbn"], type: "string_too_short" },
        { loc: ["body", "books", 2, "isbn"], type: "missing" },
      ]);
      const coerced = v.compile(Type.Object({ isbn: Type.Ref("Isbn") }), { location: "query", coerce: true });
      t.notOk(coerced({ isbn: { isbn: "1" } }).ok, "added schemas are shared by the coercing checks too");
    });

    await t.test("invalid schemas throw SchemaCompileError at compile time", async (t) => {
      const v = make();
      const bad: JsonSchema[] = [
        { type: "wat" },
        { type: "string", minLength: "x" },
        { type: "object", properties: { a: { $ref: "NotAdded" } } },
        { type: "string", format: "no-such-format" },
        { type: "string", minLenght: 3 },
      ];
      for (const schema of bad) {
        t.throws(() => v.compile(schema, { location: "body", coerce: false }), SchemaCompileError, JSON.stringify(schema));
        t.throws(() => v.compile(schema, { location: "query", coerce: true }), SchemaCompileError, `${JSON.stringify(schema)} (coercing)`);
      }
      t.throws(() => v.addSchema({ $id: "Bad", type: 7 }), SchemaCompileError);
    });

    await t.test("checks keep no state between calls", async (t) => {
      const check = make().compile(Type.Object({ a: Type.Integer() }), { location: "body", coerce: false });
      t.equal(issuesOf(t, check({ a: "x" })).length, 1);
      t.ok(check({ a: 1 }).ok);
      t.same(brief(issuesOf(t, check({}))), [{ loc: ["body", "a"], type: "missing" }]);
    });

    await t.test("non-object inputs to an object schema fail cleanly", async (t) => {
      const v = make();
      for (const [coerce, location] of [[false, "body"], [true, "query"]] as const) {
        const check = v.compile(Type.Object({ a: Type.Integer() }), { location, coerce });
        for (const value of [null, 5, "x", [1], undefined]) {
          const issues = issuesOf(t, check(value));
          t.ok(issues.length >= 1 && issues.every((i) => i.loc[0] === location), `${location} ${JSON.stringify(value)}`);
        }
      }
    });
  }).then(() => undefined);
}
