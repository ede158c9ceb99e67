/**
 * The first {@link Serializer}: fast-json-stringify for responses with a schema, `JSON.stringify`
 * for the rest.
 *
 * With a schema, fast-json-stringify compiles a function that writes exactly the declared
 * properties: a `password` the schema does not declare never leaves the server (FastAPI's
 * `response_model` filtering). It is a *serializer*, not a validator; what it does with values
 * that do not fit the schema decides whether a bug becomes a 500 or a silently wrong body, so:
 *
 * | value                                   | result                                     |
 * |-----------------------------------------|--------------------------------------------|
 * | required property missing or undefined  | `SerializationError` (fast-json-stringify throws) |
 * | top-level null/undefined, schema not nullable | `SerializationError` (checked here; it would write `{}`/`[]`/`""`); undefined is null otherwise |
 * | top-level value of another JSON type than an object/array schema | `SerializationError` (checked here) |
 * | non-numeric string, NaN, ±Infinity for `integer`; NaN for `number` | `SerializationError` |
 * | a non-array for `array`                 | `SerializationError`                       |
 * | numeric string for `integer`/`number`   | converted: `"12"` → `12`                   |
 * | fractional number for `integer`         | truncated: `1.7` → `1` (its `rounding` default) |
 * | ±Infinity for `number`                  | `null` (as `JSON.stringify`)               |
 * | number, object, array for `string`      | `String(value)`: `"5"`, `"[object Object]"` |
 * | nested non-object for `object`          | `{}`                                       |
 * | anything for `boolean`                  | its truthiness (`"false"` → `true`)        |
 * | null for a non-nullable nested property | that type's zero value (`0`, `""`, `false`) |
 * | `Date` for `string` (any or `date-time` format) | ISO 8601 text; an invalid Date → `SerializationError` |
 * | BigInt for `integer`                    | its digits; elsewhere `SerializationError` |
 * | a circular value                        | `SerializationError`                       |
 *
 * The output is always valid JSON or an error; the conversions in the middle rows are
 * fast-json-stringify's and are not checked per response (FastAPI validates responses; that
 * costs a second pass over every body, and laminar leaves it to the handler's types).
 *
 * @module
 */
import build from "fast-json-stringify";
import { SchemaCompileError, SerializationError } from "../../lib/errors.js";
import type { JsonSchema } from "../validator/validator.js";
import type { Serialize, Serializer } from "./serializer.js";

/**
 * fast-json-stringify-backed serializer.
 *
 * @example
 * const serializer = new FastJsonSerializer();
 * const serialize = serializer.compile(Type.Object({ id: Type.Integer() }), "GET /users/{id}");
 * serialize({ id: 1, password: "x" }); // '{"id":1}'
 */
export class FastJsonSerializer implements Serializer {
  private readonly shared: Record<string, JsonSchema> = {};

  /** Registers a shared schema; response schemas compiled afterwards may `$ref` its `$id`. */
  addSchema(schema: JsonSchema): void {
    if (typeof schema.$id !== "string" || schema.$id === "") {
      throw new SchemaCompileError("a shared schema", "it needs a non-empty string $id");
    }
    this.shared[schema.$id] = schema;
  }

  /** Compiles `schema` (or plain `JSON.stringify` when undefined); `label` names the route in errors. */
  compile(schema: JsonSchema | undefined, label: string): Serialize {
    if (schema === undefined) return plainJson(label);
    let stringify: (value: unknown) => string;
    try {
      // A copy of the shared schemas: ones added later must not change this compiled function's view.
      // The casts: fast-json-stringify's schema types are narrower than "a JSON Schema object";
      // whatever it cannot take, it rejects here, at compile time.
      const shared = { ...this.shared } as unknown as Record<string, build.Schema>;
      stringify = build(schema as unknown as build.Schema, { schema: shared }) as (value: unknown) => string;
    } catch (error) {
      throw new SchemaCompileError(label, reasonOf(error));
    }
    const topLevel = topLevelCheck(schema);
    return (input: unknown): string => {
      // A handler that returns nothing: `null`, as without a schema (then refused below unless nullable).
      const value = input === undefined ? null : input;
      if (topLevel !== undefined) {
        const problem = topLevel(value);
        if (problem !== undefined) throw new SerializationError(label, problem);
      }
      let json: string | undefined;
      try {
        json = stringify(value);
      } catch (error) {
        throw new SerializationError(label, reasonOf(error));
      }
      // An untyped schema (`{}`) hands the value to JSON.stringify, which returns undefined for
      // undefined, functions and symbols: answer `null`, as without a schema.
      return typeof json === "string" ? json : "null";
    };
  }
}

/** `JSON.stringify` with errors as `SerializationError` and a top-level `undefined` as `null`. */
function plainJson(label: string): Serialize {
  return (value: unknown): string => {
    let json: string | undefined;
    try {
      json = JSON.stringify(value);
    } catch (error) {
      throw new SerializationError(label, reasonOf(error));
    }
    return json === undefined ? "null" : json;
  };
}

type TopLevelCheck = (value: unknown) => string | undefined;

/**
 * The top-level type check fast-json-stringify does not do: given `null` for an object schema it
 * writes `{}`, for an array `[]`, for a string `""`; given a string for an object schema, `{}`.
 * Those are a handler bug (a lookup that returned nothing), and must become a 500, not a
 * plausible-looking empty body. One `typeof` per response.
 */
function topLevelCheck(schema: JsonSchema): TopLevelCheck | undefined {
  const types = typeof schema.type === "string" ? [schema.type] : Array.isArray(schema.type) ? (schema.type as unknown[]) : undefined;
  if (types === undefined) return undefined;
  const nullable = types.includes("null") || schema.nullable === true;
  const object = types.includes("object");
  const array = types.includes("array");
  const scalarOnly = !object && !array;
  return (value) => {
    if (value === null) return nullable ? undefined : "the value is null (or undefined), and the schema does not allow null";
    if (scalarOnly) return undefined;
    if (Array.isArray(value)) return array ? undefined : "the value is an array, the schema declares an object";
    if (typeof value === "object") return object ? undefined : "the value is an object, the schema declares an array";
    return `the value is a ${typeof value}, the schema declares ${object ? "an object" : "an array"}`;
  };
}

function reasonOf(error: unknown): string {
  if (error instanceof RangeError && /call stack/i.test(error.message)) return "circular or too deeply nested value";
  const message = error instanceof Error ? error.message : String(error);
  // JSON.stringify's circular-structure message spans lines that describe the path; keep line one.
  return message.split("\n", 1)[0]!;
}
