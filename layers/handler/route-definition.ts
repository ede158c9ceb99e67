/**
 * How a route is declared: its input and response schemas, its dependencies, its documentation,
 * and the handler; and the static types that flow from the schemas into the handler's arguments.
 *
 * @example
 * app.post("/books", { body: BookCreate, response: { 201: Book }, status: 201 }, ({ body }) => {
 *   body.title; // string, from the schema
 *   return repo.insert(body);
 * });
 *
 * @module
 */
import type { Static, TSchema } from "@sinclair/typebox";
import type { HttpScope, Receive } from "../adapter/events.js";
import type { DependencyMap, DependencyToken, ResolvedDeps } from "../di/dependency.js";
import type { SchemaLike, StaticOf } from "../validator/schema-types.js";
import type { AnyResponse } from "./responses.js";
import type { BackgroundTasks } from "./background-tasks.js";
import type { ResponseParts } from "./response-parts.js";
import type { FormLimits } from "../validator/form-limits.js";

/** One response schema, or one per status code (FastAPI's `response_model` and `responses`). */
export type ResponseSchemas = SchemaLike | { readonly [status: number]: SchemaLike };

/** Everything a route may declare besides its method, path and handler. */
export interface RouteOptions {
  /** Path parameters, e.g. `Type.Object({ id: Type.Integer() })`; strings are coerced. */
  params?: SchemaLike;
  /** Query parameters; strings coerced, repeated keys become arrays where declared. */
  query?: SchemaLike;
  /** Request headers; property names must be lower-case (`"x-token"`). */
  headers?: SchemaLike;
  /** Cookies by name. */
  cookies?: SchemaLike;
  /** The JSON request body; not coerced (`"5"` is not an integer in JSON). */
  body?: SchemaLike;
  /**
   * A form body (`application/x-www-form-urlencoded` or `multipart/form-data`): an object schema
   * of its fields, text coerced as query parameters are, files declared with `UploadFileSchema()`.
   * Validated into `form`. A route declares `body` or `form`, not both.
   */
  form?: SchemaLike;
  /** Limits and file storage for `form` bodies; unset ones come from the app's `formLimits`. */
  formLimits?: Partial<FormLimits>;
  /** Response schema(s): fields not declared never leave the server. */
  response?: ResponseSchemas;
  /** Status of a successful plain return value. Default 200. */
  status?: number;
  /** Named dependencies, injected into the handler as `deps`. */
  deps?: DependencyMap;
  /** Dependencies run for their effect only (auth checks), values not injected. */
  dependencies?: ReadonlyArray<DependencyToken<unknown>>;
  /** Largest accepted body for this route, in bytes; default the app's limit (1 MiB). */
  bodyLimit?: number;
  /** OpenAPI grouping and documentation. */
  tags?: string[];
  summary?: string;
  description?: string;
  operationId?: string;
  deprecated?: boolean;
  /** Leave the route out of the OpenAPI document. Default true (included). */
  includeInSchema?: boolean;
  /**
   * Merged into the route's generated OpenAPI operation, recursively (FastAPI's `openapi_extra`):
   * for what the declarations cannot say, such as a body the handler parses itself.
   */
  openapiExtra?: Readonly<Record<string, unknown>>;
}

type ResponseValueOf<R> = [R] extends [undefined]
  ? unknown
  : R extends TSchema
    ? Static<R>
    : R extends { readonly [status: number]: infer S }
      ? StaticOf<S>
      : unknown;

/** What a handler may return for route options `O`: data matching the response schema, or a Response. */
export type HandlerResult<O extends RouteOptions> = ResponseValueOf<O["response"]> | AnyResponse;

/** The typed inputs a handler receives. */
export interface HandlerContext<O extends RouteOptions = RouteOptions> {
  /** The request's scope (method, path, headers, client, …). */
  readonly scope: HttpScope;
  readonly params: StaticOf<O["params"], Record<string, string>>;
  readonly query: StaticOf<O["query"], Record<string, string | string[]>>;
  readonly headers: StaticOf<O["headers"], Record<string, string>>;
  readonly cookies: StaticOf<O["cookies"], Record<string, string>>;
  /** The validated JSON body; undefined when the route declares no body schema. */
  readonly body: StaticOf<O["body"], undefined>;
  /** The validated form (text fields and `UploadFile`s); undefined when the route declares no form. */
  readonly form: StaticOf<O["form"], undefined>;
  readonly deps: ResolvedDeps<O["deps"]>;
  /** The raw body channel, for routes that stream their input instead of declaring a body schema. */
  readonly receive: Receive;
  /** Work to run after the response has been sent (FastAPI's `BackgroundTasks`). */
  readonly background: BackgroundTasks;
  /** Status, headers and cookies for a plain return value (FastAPI's `response: Response` parameter). */
  readonly response: ResponseParts;
}

/** An endpoint: sync or async. */
export type Handler<O extends RouteOptions = RouteOptions> = (
  ctx: HandlerContext<O>,
) => HandlerResult<O> | Promise<HandlerResult<O>>;

/** A route as recorded by a router, before compilation. */
export interface RouteDeclaration {
  readonly methods: readonly string[];
  readonly path: string;
  readonly options: RouteOptions;
  readonly handler: Handler<RouteOptions>;
}
