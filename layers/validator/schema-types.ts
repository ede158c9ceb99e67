/**
 * Static types from schemas: how a handler's `body` gets its TypeScript type from the schema it
 * declares, with no second declaration. TypeBox schemas carry their static type; a plain JSON
 * Schema object is accepted too, and types as `unknown`.
 *
 * @module
 */
import type { Static, TSchema } from "@sinclair/typebox";
import type { JsonSchema } from "./validator.js";

/** A schema a route or dependency may declare: TypeBox (typed) or plain JSON Schema (untyped). */
export type SchemaLike = TSchema | JsonSchema;

/** The static type of a schema, or `Fallback` when none is declared. */
export type StaticOf<S, Fallback = unknown> = [S] extends [undefined]
  ? Fallback
  : S extends TSchema
    ? Static<S>
    : Fallback;
