/**
 * Request inputs as OpenAPI Parameter Objects: one parameter per property of the (merged) object
 * schema of each request part, `required` from the schema's `required` (unless the property has a
 * `default`, which the validator fills in), the property's
 * `description`, `deprecated` and first example lifted onto the parameter, where Swagger UI and
 * client generators look for them.
 *
 * @module
 */
import type { InputSchemas } from "../../layers/di/dependency.js";
import type { JsonSchema } from "../../layers/validator/validator.js";
import type { OpenApiParameter } from "./openapi-types.js";
import type { SchemaComponents } from "./schema-components.js";

const LOCATIONS = [
  ["params", "path"],
  ["query", "query"],
  ["headers", "header"],
  ["cookies", "cookie"],
] as const;

function objectParts(schema: JsonSchema | undefined): { properties: Record<string, JsonSchema>; required: Set<string> } | undefined {
  if (schema === undefined || schema.type !== "object" || typeof schema.properties !== "object" || schema.properties === null) return undefined;
  const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
  return { properties: schema.properties as Record<string, JsonSchema>, required: new Set(required) };
}

function parameter(name: string, location: OpenApiParameter["in"], required: boolean, schema: JsonSchema, components: SchemaComponents): OpenApiParameter {
  const result: OpenApiParameter = { name, in: location, required, schema: components.use(schema) };
  if (typeof schema.description === "string") result.description = schema.description;
  if (schema.deprecated === true) result.deprecated = true;
  if (Array.isArray(schema.examples) && schema.examples.length > 0) result.example = schema.examples[0];
  return result;
}

/**
 * The parameters of one operation, path parameters first (in template order), then query,
 * header and cookie parameters in declaration order.
 *
 * Every name in the path template is a required path parameter: one the schema does not declare
 * is a string (the router's value), and a schema property that is not in the template is left out
 * (OpenAPI allows no path parameter outside the template). A part whose schema is not an object
 * with `properties` cannot be split into parameters and is left out.
 */
export function operationParameters(inputs: InputSchemas, pathNames: readonly string[], components: SchemaComponents): OpenApiParameter[] {
  const result: OpenApiParameter[] = [];
  for (const [part, location] of LOCATIONS) {
    const parts = objectParts(inputs[part] as JsonSchema | undefined);
    if (location === "path") {
      for (const name of pathNames) result.push(parameter(name, "path", true, parts?.properties[name] ?? { type: "string" }, components));
      continue;
    }
    if (parts === undefined) continue;
    for (const [name, schema] of Object.entries(parts.properties)) {
      // The validator fills defaults (ajv `useDefaults`), so a required property with one may be omitted.
      const required = parts.required.has(name) && !("default" in schema);
      result.push(parameter(name, location, required, schema, components));
    }
  }
  return result;
}
