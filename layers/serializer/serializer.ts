/**
 * Layer 8, the serializer: compiles a response schema once into a function from value to JSON text.
 *
 * With a schema, only the fields the schema declares leave the server (FastAPI's `response_model`);
 * without one, the value is serialized as it is. A value that cannot be serialized (circular,
 * BigInt, a required field missing) throws `SerializationError`; since serialization runs before the
 * response starts, the client then gets a clean 500, never half a body.
 *
 * The output is a string rather than bytes: Node writes strings to sockets without an extra copy,
 * and Content-Length comes from `Buffer.byteLength`.
 *
 * Deliberately left out: content negotiation (XML, msgpack) and streaming serialization.
 *
 * @module
 */
import type { JsonSchema } from "../validator/validator.js";

/** A compiled serializer. */
export type Serialize = (value: unknown) => string;

/** Compiles response schemas. One instance per app; shared `$id` schemas are registered on it. */
export interface Serializer {
  /** Compiles `schema` (or plain JSON when undefined); `label` names the route in errors. */
  compile(schema: JsonSchema | undefined, label: string): Serialize;
  /** Registers a shared schema (one with `$id`) that response schemas may `$ref`. */
  addSchema(schema: JsonSchema): void;
}
