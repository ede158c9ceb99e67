/**
 * Converts a 3.1 document to OpenAPI 3.0.3, for client generators that do not read 3.1 yet.
 *
 * 3.0's Schema Object is an extended subset of JSON Schema draft-05, so each schema is rewritten:
 * - `type: [T, "null"]` and `anyOf: [..., { type: "null" }]` → `nullable: true` (a `$ref` made
 *   nullable becomes `allOf: [{ $ref }]`, since 3.0 ignores a `$ref`'s siblings);
 *   several types → `anyOf` of one type each; `type: "null"` alone → `enum: [null]`, nullable;
 * - `const: v` → `enum: [v]`; `examples: [a, ...]` → `example: a`;
 * - numeric `exclusiveMinimum`/`exclusiveMaximum` → `minimum`/`maximum` + boolean;
 * - `contentMediaType` → `format: binary` (`contentEncoding: base64` → `format: byte`);
 * - tuples (`prefixItems`) → `items: { anyOf: [...] }` with the same length bounds;
 * - `patternProperties` (TypeBox `Record`) → `additionalProperties` of its first pattern's schema;
 * - keywords 3.0 does not have (`$id`, `$schema`, `$defs`, `if`/`then`/`else`, `unevaluated*`,
 *   `contains`, `dependent*`, …) are dropped.
 * Outside schemas: `info.summary`, `info.license.identifier`, `webhooks` and `jsonSchemaDialect`
 * (3.1 only) are dropped.
 *
 * Lossy by nature: what 3.0 cannot say is widened, never narrowed (a client generated from the
 * 3.0 document accepts everything the server sends).
 *
 * @module
 */
import type { JsonSchema } from "../../layers/validator/validator.js";
import type { OpenApiDocument, OpenApiMediaType, OpenApiOperation, OpenApiPathItem } from "./openapi-types.js";

/** Schema keywords 3.0 shares with JSON Schema, copied as they are. */
const COPIED = new Set([
  "title",
  "description",
  "format",
  "default",
  "multipleOf",
  "maximum",
  "minimum",
  "maxLength",
  "minLength",
  "pattern",
  "maxItems",
  "minItems",
  "uniqueItems",
  "maxProperties",
  "minProperties",
  "required",
  "enum",
  "readOnly",
  "writeOnly",
  "deprecated",
  "discriminator",
  "xml",
  "externalDocs",
  "example",
  "nullable",
]);

function isNullSchema(schema: unknown): boolean {
  return typeof schema === "object" && schema !== null && (schema as JsonSchema).type === "null" && Object.keys(schema).length === 1;
}

function convertMap(map: unknown): Record<string, JsonSchema> {
  const out: Record<string, JsonSchema> = {};
  for (const [name, schema] of Object.entries((map ?? {}) as Record<string, unknown>)) out[name] = convertSchema(schema);
  return out;
}

/** Converts one 3.1 (JSON Schema 2020-12) schema to a 3.0.3 Schema Object. */
export function convertSchema(input: unknown): JsonSchema {
  if (input === true) return {};
  if (input === false) return { not: {} };
  if (typeof input !== "object" || input === null) return {};
  const schema = input as JsonSchema;
  let out: JsonSchema = {};
  let nullable = false;

  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith("x-") || COPIED.has(key)) {
      out[key] = value;
      continue;
    }
    switch (key) {
      case "$ref":
        out.$ref = value;
        break;
      case "type": {
        const types = Array.isArray(value) ? (value as string[]) : [value as string];
        const concrete = types.filter((type) => type !== "null");
        if (concrete.length < types.length) nullable = true;
        if (concrete.length === 1) out.type = concrete[0];
        else if (concrete.length > 1) out.anyOf = concrete.map((type) => ({ type }));
        else out.enum = [null];
        break;
      }
      case "const":
        out.enum = [value];
        break;
      case "examples":
        if (Array.isArray(value) && value.length > 0 && !("example" in schema)) out.example = value[0];
        break;
      case "exclusiveMinimum":
      case "exclusiveMaximum":
        if (typeof value === "number") {
          const bound = key === "exclusiveMinimum" ? "minimum" : "maximum";
          const other = schema[bound];
          // Both given: the stricter one wins; an equal inclusive bound is implied by the exclusive one.
          const exclusiveWins = typeof other !== "number" || (key === "exclusiveMinimum" ? value >= other : value <= other);
          if (exclusiveWins) {
            out[bound] = value;
            out[key] = true;
          }
        } else if (typeof value === "boolean") {
          out[key] = value;
        }
        break;
      case "contentMediaType":
        if (schema.format === undefined) out.format = schema.contentEncoding === "base64" ? "byte" : "binary";
        break;
      case "contentEncoding":
        if (value === "base64" && schema.format === undefined) out.format = "byte";
        break;
      case "properties":
        out.properties = convertMap(value);
        break;
      case "additionalProperties":
        out.additionalProperties = typeof value === "boolean" ? value : convertSchema(value);
        break;
      case "patternProperties": {
        const first = Object.values((value ?? {}) as Record<string, unknown>)[0];
        if (first !== undefined && schema.additionalProperties === undefined) out.additionalProperties = convertSchema(first);
        break;
      }
      case "items":
        if (Array.isArray(schema.prefixItems)) break;
        if (value !== false) out.items = convertSchema(value);
        break;
      case "prefixItems": {
        const members = (value as unknown[]).map(convertSchema);
        const rest = schema.items;
        if (rest !== undefined && rest !== false) members.push(convertSchema(rest));
        out.items = members.length === 1 ? members[0]! : { anyOf: members };
        break;
      }
      case "anyOf":
      case "oneOf": {
        const members = value as unknown[];
        const concrete = members.filter((member) => !isNullSchema(member));
        if (concrete.length < members.length) nullable = true;
        if (concrete.length === 1 && Object.keys(schema).length === 1) {
          out = { ...out, ...convertSchema(concrete[0]) };
        } else if (concrete.length > 0) {
          out[key] = concrete.map(convertSchema);
        }
        break;
      }
      case "allOf":
        out.allOf = (value as unknown[]).map(convertSchema);
        break;
      case "not":
        out.not = convertSchema(value);
        break;
      default:
        // $id, $schema, $comment, $defs, if/then/else, unevaluated*, contains, dependent*, …: not in 3.0.
        break;
    }
  }
  if (typeof out.$ref === "string" && (Object.keys(out).length > 1 || nullable)) {
    // 3.0 ignores a $ref's siblings: keep them by moving the reference into allOf.
    const { $ref, ...rest } = out;
    out = { allOf: [{ $ref }], ...rest };
  }
  if (nullable) out.nullable = true;
  return out;
}

function convertContent(content: Record<string, OpenApiMediaType> | undefined): Record<string, OpenApiMediaType> | undefined {
  if (content === undefined) return undefined;
  const out: Record<string, OpenApiMediaType> = {};
  for (const [type, media] of Object.entries(content)) out[type] = { ...media, schema: convertSchema(media.schema) };
  return out;
}

function convertOperation(operation: OpenApiOperation): OpenApiOperation {
  const out: OpenApiOperation = { ...operation };
  if (operation.parameters !== undefined) {
    out.parameters = operation.parameters.map((parameter) => ({ ...parameter, schema: convertSchema(parameter.schema) }));
  }
  if (operation.requestBody !== undefined) {
    out.requestBody = { ...operation.requestBody, content: convertContent(operation.requestBody.content)! };
  }
  out.responses = {};
  for (const [status, response] of Object.entries(operation.responses)) {
    const content = convertContent(response.content);
    out.responses[status] = content === undefined ? { ...response } : { ...response, content };
  }
  return out;
}

/** Converts a whole 3.1 document (as {@link generateOpenApi} writes it) to 3.0.3; the input is not modified. */
export function toOpenApi30(document: OpenApiDocument): OpenApiDocument {
  const { webhooks: _webhooks, jsonSchemaDialect: _dialect, ...rest } = document;
  const { summary: _summary, ...info } = document.info;
  if (typeof info.license === "object" && info.license !== null) {
    const { identifier: _identifier, ...license } = info.license as Record<string, unknown>;
    info.license = license;
  }
  const paths: Record<string, OpenApiPathItem> = {};
  for (const [path, item] of Object.entries(document.paths)) {
    paths[path] = Object.fromEntries(Object.entries(item).map(([method, operation]) => [method, convertOperation(operation)]));
  }
  const out: OpenApiDocument = { ...rest, openapi: "3.0.3", info, paths };
  if (document.components !== undefined) {
    out.components = { ...document.components };
    if (document.components.schemas !== undefined) out.components.schemas = convertMap(document.components.schemas);
  }
  return out;
}
