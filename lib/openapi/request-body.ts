/**
 * A route's request body as an OpenAPI Request Body Object: the JSON body (`body` option) as
 * `application/json`, or a form (`form` option) as `application/x-www-form-urlencoded`, or as
 * `multipart/form-data` when any of its fields is a file.
 *
 * The body is `required`: laminar answers a missing body with 422 ("Field required").
 *
 * @module
 */
import type { RouteOptions } from "../../layers/handler/route-definition.js";
import { isFileSchema } from "../../layers/handler/upload-file.js";
import type { JsonSchema } from "../../layers/validator/validator.js";
import type { OpenApiRequestBody } from "./openapi-types.js";
import type { SchemaComponents } from "./schema-components.js";

/** How a file field is written in a 3.1 document (3.0 writes `format: binary`, see openapi-30.ts). */
export const FILE_FIELD_SCHEMA: JsonSchema = { type: "string", contentMediaType: "application/octet-stream" };

/**
 * A form schema with its file fields (and arrays of them) written as {@link FILE_FIELD_SCHEMA}. A
 * file field is recognised by the same test the form parser uses ({@link isFileSchema}), so the
 * document and the parser never disagree about which fields are uploads.
 */
function formContent(schema: JsonSchema): { mediaType: string; schema: JsonSchema } {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  let files = false;
  const converted: Record<string, JsonSchema> = {};
  for (const [name, field] of Object.entries(properties)) {
    const items = field.items as JsonSchema | undefined;
    if (isFileSchema(field)) {
      files = true;
      converted[name] = { ...FILE_FIELD_SCHEMA, ...(typeof field.description === "string" ? { description: field.description } : {}) };
    } else if (field.type === "array" && items !== undefined && !Array.isArray(items) && isFileSchema(items)) {
      files = true;
      converted[name] = { ...field, items: FILE_FIELD_SCHEMA };
    } else {
      converted[name] = field;
    }
  }
  return {
    mediaType: files ? "multipart/form-data" : "application/x-www-form-urlencoded",
    schema: { ...schema, properties: converted },
  };
}

/** The request body of a route, or undefined when it declares none. */
export function requestBodyOf(options: RouteOptions, components: SchemaComponents): OpenApiRequestBody | undefined {
  // `form` is read structurally so this file compiles before and after the option exists.
  const form = (options as { form?: unknown }).form;
  if (typeof form === "object" && form !== null) {
    const { mediaType, schema } = formContent(form as JsonSchema);
    return { required: true, content: { [mediaType]: { schema: components.use(schema) } } };
  }
  if (options.body === undefined) return undefined;
  return { required: true, content: { "application/json": { schema: components.use(options.body) } } };
}

/** True when the route validates a body (JSON or form): its operation can answer 422. */
export function hasRequestBody(options: RouteOptions): boolean {
  const form = (options as { form?: unknown }).form;
  return options.body !== undefined || (typeof form === "object" && form !== null);
}
