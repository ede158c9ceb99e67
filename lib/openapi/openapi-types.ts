/**
 * The parts of the OpenAPI document laminar writes, typed as far as laminar fills them. Schemas
 * stay plain JSON objects (they are the routes' own JSON Schemas); anything laminar does not write
 * is left to the index signature so a user can post-process the document without casts.
 *
 * @module
 */
import type { JsonSchema } from "../../layers/validator/validator.js";

/** The two versions laminar can write: 3.1 (JSON Schema 2020-12, the default) and 3.0.3 (for older client generators). */
export type OpenApiVersion = "3.1.0" | "3.0.3";

/** A Server Object: where the API is served (`{ url: "https://api.example.com/v1" }`). */
export interface OpenApiServer {
  url: string;
  description?: string;
  [extension: string]: unknown;
}

/** The document's `info`, from the App's `title`, `version` and `description`. */
export interface OpenApiInfo {
  title: string;
  version: string;
  description?: string;
  [field: string]: unknown;
}

/** A Parameter Object (`in`: path, query, header or cookie). */
export interface OpenApiParameter {
  name: string;
  in: "path" | "query" | "header" | "cookie";
  required: boolean;
  schema: JsonSchema;
  description?: string;
  deprecated?: boolean;
  example?: unknown;
  [field: string]: unknown;
}

/** A Media Type Object: the schema of one content type. */
export interface OpenApiMediaType {
  schema: JsonSchema;
  [field: string]: unknown;
}

/** A Request Body Object. */
export interface OpenApiRequestBody {
  required: boolean;
  content: Record<string, OpenApiMediaType>;
  description?: string;
}

/** A Response Object; bodyless statuses have no `content`. */
export interface OpenApiResponse {
  description: string;
  content?: Record<string, OpenApiMediaType>;
  [field: string]: unknown;
}

/** A Security Requirement Object: scheme name → required scopes (empty for non-OAuth2 schemes). */
export type OpenApiSecurityRequirement = Record<string, string[]>;

/** An Operation Object: one method of one path. */
export interface OpenApiOperation {
  operationId: string;
  responses: Record<string, OpenApiResponse>;
  tags?: string[];
  summary?: string;
  description?: string;
  parameters?: OpenApiParameter[];
  requestBody?: OpenApiRequestBody;
  deprecated?: boolean;
  security?: OpenApiSecurityRequirement[];
  [field: string]: unknown;
}

/** A Path Item Object: operations by lower-case method. */
export type OpenApiPathItem = Record<string, OpenApiOperation>;

/** The document's `components`: shared schemas (TypeBox `$id`s, the validation error) and security schemes. */
export interface OpenApiComponents {
  schemas?: Record<string, JsonSchema>;
  securitySchemes?: Record<string, Readonly<Record<string, unknown>>>;
  [field: string]: unknown;
}

/** The OpenAPI document. */
export interface OpenApiDocument {
  openapi: OpenApiVersion;
  info: OpenApiInfo;
  servers?: OpenApiServer[];
  paths: Record<string, OpenApiPathItem>;
  components?: OpenApiComponents;
  [field: string]: unknown;
}

/** What the document says about the API as a whole (the App's options of the same names). */
export interface OpenApiMetadata {
  /** `info.title`; default `"laminar"`. */
  title?: string;
  /** `info.version` (the API's version, not OpenAPI's); default `"0.1.0"`. */
  version?: string;
  /** `info.description` (CommonMark). */
  description?: string;
  /** `servers`; default none (a mounted app gets its mount prefix when served, as FastAPI's `root_path`). */
  servers?: OpenApiServer[];
  /** Which OpenAPI version to write; default `"3.1.0"`. */
  openapiVersion?: OpenApiVersion;
}
