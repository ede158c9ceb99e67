/**
 * Layer 6, the validator: compiles a JSON Schema once, then checks values against it.
 *
 * The contract returns every problem, not only the first, already located (`loc` starts with the
 * request part: `"path"`, `"query"`, `"header"`, `"cookie"` or `"body"`), in FastAPI's shape, so the
 * pipeline can answer 422 without remapping. When `coerce` is on (path, query, header and cookie
 * values all arrive as strings), the check converts strings to the declared types in place and
 * `value` is the converted object.
 *
 * Deliberately left out: asynchronous checks (a database lookup is a dependency's job), schema
 * languages other than JSON Schema (TypeBox produces JSON Schema), and removal of unknown request
 * fields (they are ignored unless the schema forbids them; the serializer drops them on the way out).
 *
 * @module
 */
import type { ValidationIssue } from "../../lib/errors.js";

/** Where a value came from; the first element of every issue's `loc`. */
export type InputLocation = "path" | "query" | "header" | "cookie" | "body";

/** A JSON Schema object (TypeBox schemas are these). */
export type JsonSchema = Record<string, unknown>;

/** The outcome of one check. */
export type CheckResult<T> = { ok: true; value: T } | { ok: false; issues: ValidationIssue[] };

/** A compiled check: call it once per request. */
export type Check<T = unknown> = (value: unknown) => CheckResult<T>;

/** Options for {@link Validator.compile}. */
export interface CompileOptions {
  /** Prefix of every issue's `loc`. */
  location: InputLocation;
  /** Convert strings to the declared types (and single values to one-element arrays). */
  coerce: boolean;
}

/** Compiles schemas into checks. One instance per app; schemas with `$id` are shared through it. */
export interface Validator {
  /** Compiles `schema`; throws `SchemaCompileError` when the schema is invalid. */
  compile<T = unknown>(schema: JsonSchema, options: CompileOptions): Check<T>;
  /** Registers a shared schema (one with `$id`) that other schemas may `$ref`. */
  addSchema(schema: JsonSchema): void;
}
