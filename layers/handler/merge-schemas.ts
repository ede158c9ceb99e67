/**
 * Merges the input schemas a route declares with those its dependencies declare, so that each
 * request part is validated once and every problem, wherever it was declared, is reported in the
 * same 422 (FastAPI flattens dependency parameters into the endpoint's the same way).
 *
 * @module
 */
import type { InputSchemas } from "../di/dependency.js";
import type { JsonSchema } from "../validator/validator.js";
import type { SchemaLike } from "../validator/schema-types.js";
import { RouteDefinitionError } from "../../lib/errors.js";

interface ObjectSchema extends JsonSchema {
  type: "object";
  properties?: Record<string, JsonSchema>;
  required?: string[];
}

function isObjectSchema(schema: SchemaLike): schema is ObjectSchema {
  return (schema as JsonSchema).type === "object";
}

/**
 * Merges object schemas: properties are united, `required` is the union. The same property
 * declared twice must be declared identically, else the route is rejected at startup.
 */
export function mergeObjectSchemas(schemas: SchemaLike[], where: string): SchemaLike | undefined {
  if (schemas.length === 0) return undefined;
  if (schemas.length === 1) return schemas[0];
  const properties: Record<string, JsonSchema> = {};
  const required = new Set<string>();
  for (const schema of schemas) {
    if (!isObjectSchema(schema)) {
      throw new RouteDefinitionError(where, "input schemas declared by a route and its dependencies must be objects to be merged");
    }
    for (const [name, property] of Object.entries(schema.properties ?? {})) {
      const existing = properties[name];
      if (existing !== undefined && JSON.stringify(existing) !== JSON.stringify(property)) {
        throw new RouteDefinitionError(where, `input "${name}" is declared twice with different schemas`);
      }
      properties[name] = property;
    }
    for (const name of schema.required ?? []) required.add(name);
  }
  const merged: ObjectSchema = { type: "object", properties };
  if (required.size > 0) merged.required = [...required];
  return merged;
}

/** Per request part, the route's own schema followed by those of its dependencies, merged. */
export function mergeInputs(route: InputSchemas, fromDependencies: readonly InputSchemas[], where: string): InputSchemas {
  const parts = ["params", "query", "headers", "cookies"] as const;
  const result: InputSchemas = {};
  for (const part of parts) {
    const list: SchemaLike[] = [];
    if (route[part] !== undefined) list.push(route[part]);
    for (const inputs of fromDependencies) if (inputs[part] !== undefined) list.push(inputs[part]);
    const merged = mergeObjectSchemas(list, `${where} (${part})`);
    if (merged !== undefined) result[part] = merged;
  }
  return result;
}
