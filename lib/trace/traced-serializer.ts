/**
 * Layer 8, traced: a {@link Serializer} decorator whose compiled functions record, for a traced
 * request, how long serializing the handler's value took and how many bytes it made.
 *
 * @module
 */
import type { Serialize, Serializer } from "../../layers/serializer/serializer.js";
import type { JsonSchema } from "../../layers/validator/validator.js";
import { describeError } from "./trace-record.js";
import type { Tracer } from "./tracer.js";

/** Wraps `serializer`; each `serialize` call of a traced request is a `serializer` span. */
export function tracedSerializer(tracer: Tracer, serializer: Serializer): Serializer {
  return {
    compile(schema: JsonSchema | undefined, label: string): Serialize {
      const serialize = serializer.compile(schema, label);
      const kind = schema === undefined ? "plain JSON" : "response schema";
      return (value) => {
        const record = tracer.current();
        if (record === undefined) return serialize(value);
        const span = tracer.open(record, "serializer", kind);
        try {
          const json = serialize(value);
          span.detail = `${kind}, ${Buffer.byteLength(json)} bytes`;
          return json;
        } catch (error) {
          span.error = describeError(error);
          throw error;
        } finally {
          span.end = tracer.clock();
        }
      };
    },
    addSchema(schema: JsonSchema): void {
      serializer.addSchema(schema);
    },
  };
}
