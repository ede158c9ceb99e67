/**
 * A route's responses as OpenAPI Response Objects, one per status code: the success status
 * (`status` option, default 200) always, every status of a `response` status map, and the 422
 * validation error when the route validates anything.
 *
 * A status whose responses have no body (1xx, 204, 205, 304, see `isBodylessStatus`) gets no
 * `content`. The success status without a schema is "any JSON" (`{}`), as FastAPI writes it.
 *
 * @module
 */
import { STATUS_CODES } from "node:http";
import type { RouteOptions } from "../../layers/handler/route-definition.js";
import { responseSchemasByStatus } from "../../layers/handler/compile-route.js";
import { isBodylessStatus } from "../../layers/handler/responses.js";
import type { OpenApiResponse } from "./openapi-types.js";
import { componentRef, type SchemaComponents } from "./schema-components.js";
import { HTTP_VALIDATION_ERROR } from "./validation-error-schema.js";

function description(status: number, success: number): string {
  if (status === success) return "Successful Response";
  return STATUS_CODES[status] ?? `Status ${status}`;
}

/**
 * The responses of one operation, keyed by status as a string, in ascending order.
 *
 * @param validates whether the route checks any input (then 422 is added, unless declared)
 */
export function operationResponses(options: RouteOptions, validates: boolean, components: SchemaComponents): Record<string, OpenApiResponse> {
  const success = options.status ?? 200;
  const schemas = responseSchemasByStatus(options.response, success);
  const statuses = new Set<number>([success, ...schemas.keys()]);
  if (validates) statuses.add(422);
  const result: Record<string, OpenApiResponse> = {};
  for (const status of [...statuses].sort((a, b) => a - b)) {
    const declared = schemas.get(status);
    const response: OpenApiResponse = { description: status === 422 && declared === undefined ? "Validation Error" : description(status, success) };
    if (!isBodylessStatus(status)) {
      const schema = declared !== undefined ? components.use(declared) : status === 422 ? { $ref: componentRef(HTTP_VALIDATION_ERROR) } : {};
      response.content = { "application/json": { schema } };
    }
    result[String(status)] = response;
  }
  return result;
}
