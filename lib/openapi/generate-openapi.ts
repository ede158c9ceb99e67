/**
 * Generates the OpenAPI document from route declarations: the schemas a route declares to
 * validate and serialize are its documentation, nothing is written twice.
 *
 * Per route (routes with `includeInSchema: false` are left out), per declared method (methods
 * OpenAPI 3.1 has no field for, such as `PROPFIND`, are left out; the implicit HEAD of a GET is
 * not a declaration and never appears): path and operation ID, tags, summary (the option, else
 * the handler's name in words), description, deprecated, the parameters of the route and of its
 * whole dependency tree merged as the route compiler merges them, the request body, the
 * responses, and the security schemes the dependency tree enforces.
 *
 * @example
 * const document = generateOpenApi(app.routes, { title: "Bookstore", version: "1.0.0" });
 *
 * @module
 */
import type { RouteDeclaration } from "../../layers/handler/route-definition.js";
import { mergeInputs } from "../../layers/handler/merge-schemas.js";
import type { OpenApiDocument, OpenApiMetadata, OpenApiOperation, OpenApiPathItem } from "./openapi-types.js";
import { openApiPath } from "./path-template.js";
import { dependencyContributions } from "./dependency-tree.js";
import { SchemaComponents } from "./schema-components.js";
import { operationParameters } from "./parameters.js";
import { hasRequestBody, requestBodyOf } from "./request-body.js";
import { operationResponses } from "./responses.js";
import { SecuritySchemes } from "./security.js";
import { OperationIds, operationIdOf } from "./operation-id.js";
import { mergeOpenApiExtra } from "./openapi-extra.js";
import { HTTP_VALIDATION_ERROR, VALIDATION_ERROR, httpValidationErrorSchema, validationErrorSchema } from "./validation-error-schema.js";
import { OpenApiError } from "./openapi-error.js";
import { toOpenApi30 } from "./openapi-30.js";

/** The methods a Path Item Object has a field for (OpenAPI 3.1 §4.8.9). */
const OPENAPI_METHODS = new Set(["get", "put", "post", "delete", "options", "head", "patch", "trace"]);

/** `listBooks` / `list_books` → `List Books` (FastAPI writes a route's summary from its name the same way). */
export function summaryFromName(name: string): string | undefined {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .split(/[_\s]+/)
    .filter((word) => word !== "");
  if (words.length === 0) return undefined;
  return words.map((word) => word[0]!.toUpperCase() + word.slice(1)).join(" ");
}

/**
 * Generates the document. The result is a fresh object (no schema object of the routes is shared
 * with it), so it can be modified freely.
 *
 * @throws OpenApiError when the routes cannot be described (duplicate operation IDs, conflicting
 *   `$id`s or security schemes), RouteDefinitionError for an invalid path or conflicting inputs
 */
export function generateOpenApi(routes: readonly RouteDeclaration[], metadata: OpenApiMetadata = {}): OpenApiDocument {
  const components = new SchemaComponents();
  const security = new SecuritySchemes();
  const operationIds = new OperationIds();
  const paths: Record<string, OpenApiPathItem> = {};
  let anyValidation = false;

  for (const route of routes) {
    const { options } = route;
    if (options.includeInSchema === false) continue;
    const template = openApiPath(route.path);
    const label = `${route.methods.join(",")} ${route.path}`;
    const tree = dependencyContributions(options);
    const inputs = mergeInputs(options, tree.inputs, label);
    const validates =
      inputs.params !== undefined || inputs.query !== undefined || inputs.headers !== undefined || inputs.cookies !== undefined || hasRequestBody(options);
    anyValidation ||= validates;
    const requirements = security.requirementsOf(tree.security, label);

    for (const upper of route.methods) {
      const method = upper.toLowerCase();
      if (!OPENAPI_METHODS.has(method)) continue;
      const where = `${upper} ${route.path}`;
      const item = (paths[template.path] ??= {});
      if (item[method] !== undefined) throw new OpenApiError(`${where} is declared twice`);
      const operationId = operationIdOf(route, method, template.path);
      const owner = operationIds.claim(operationId, where);
      if (owner !== undefined) {
        throw new OpenApiError(`operationId "${operationId}" of ${where} is already the operationId of ${owner}; set a unique operationId option on one of them`);
      }
      // Fields in the order a reader expects them (as FastAPI writes them): a stable document diffs well.
      const operation = {} as OpenApiOperation;
      if (options.tags !== undefined && options.tags.length > 0) operation.tags = [...new Set(options.tags)];
      const summary = options.summary ?? summaryFromName(route.handler.name ?? "");
      if (summary !== undefined) operation.summary = summary;
      if (options.description !== undefined) operation.description = options.description;
      operation.operationId = operationId;
      const parameters = operationParameters(inputs, template.paramNames, components);
      if (parameters.length > 0) operation.parameters = parameters;
      const body = requestBodyOf(options, components);
      if (body !== undefined) operation.requestBody = body;
      operation.responses = operationResponses(options, validates, components);
      if (options.deprecated === true) operation.deprecated = true;
      if (requirements !== undefined) operation.security = requirements.map((requirement) => ({ ...requirement }));
      item[method] = options.openapiExtra === undefined ? operation : mergeOpenApiExtra(operation, options.openapiExtra);
    }
  }

  if (anyValidation) {
    components.define(VALIDATION_ERROR, validationErrorSchema);
    components.define(HTTP_VALIDATION_ERROR, httpValidationErrorSchema);
  }
  const document: OpenApiDocument = {
    openapi: "3.1.0",
    info: {
      title: metadata.title ?? "laminar",
      version: metadata.version ?? "0.1.0",
      ...(metadata.description !== undefined ? { description: metadata.description } : {}),
    },
    ...(metadata.servers !== undefined && metadata.servers.length > 0 ? { servers: metadata.servers.map((server) => ({ ...server })) } : {}),
    paths,
  };
  const schemas = components.toObject();
  const securitySchemes = security.toObject();
  if (Object.keys(schemas).length > 0 || securitySchemes !== undefined) {
    document.components = {
      ...(Object.keys(schemas).length > 0 ? { schemas } : {}),
      ...(securitySchemes !== undefined ? { securitySchemes: structuredClone(securitySchemes) as typeof securitySchemes } : {}),
    };
  }
  return metadata.openapiVersion === "3.0.3" ? toOpenApi30(document) : document;
}
