/**
 * The per-request object a handler receives as its argument.
 *
 * One instance per request, and nothing parsed that nobody reads: without a query schema, the
 * query string is parsed the first time a handler reads `query`, and likewise headers and cookies.
 * With a schema, the validated (coerced, defaulted) value is stored up front.
 *
 * @module
 */
import type { ConnectionScope, HttpScope, Receive } from "../adapter/events.js";
import type { HandlerContext } from "./route-definition.js";
import { backgroundTasks, type BackgroundTasks } from "./background-tasks.js";
import { responseParts, type ResponseParts } from "./response-parts.js";
import { headersToObject, parseCookies, parseQuery } from "../validator/request-inputs.js";

function findHeader(scope: ConnectionScope, name: string): string | undefined {
  const headers = scope.headers;
  for (let i = 0; i < headers.length; i++) if (headers[i]![0] === name) return headers[i]![1];
  return undefined;
}

/**
 * The concrete {@link HandlerContext}; handlers see it through the typed interface. WebSocket
 * routes use it too (with a `websocket` scope), through {@link WebSocketContext}.
 */
export class RequestContext<S extends ConnectionScope = HttpScope> implements Omit<HandlerContext, "scope"> {
  readonly scope: S;
  readonly receive: Receive;
  /** Set by the route when it validated path parameters. */
  params: Record<string, string>;
  body: undefined;
  /** Set by a route with a `form` (declared only: other routes' contexts do not carry the field). */
  declare form: undefined;
  deps: Record<string, never>;
  private parsedQuery: Record<string, string | string[]> | undefined;
  private parsedHeaders: Record<string, string> | undefined;
  private parsedCookies: Record<string, string> | undefined;

  constructor(scope: S, receive: Receive) {
    this.scope = scope;
    this.receive = receive;
    this.params = scope.pathParams ?? {};
    this.body = undefined;
    this.deps = EMPTY_DEPS;
    this.parsedQuery = undefined;
    this.parsedHeaders = undefined;
    this.parsedCookies = undefined;
  }

  get query(): Record<string, string | string[]> {
    return (this.parsedQuery ??= parseQuery(this.scope.queryString));
  }
  set query(value: Record<string, string | string[]>) {
    this.parsedQuery = value;
  }

  get headers(): Record<string, string> {
    return (this.parsedHeaders ??= headersToObject(this.scope.headers));
  }
  set headers(value: Record<string, string>) {
    this.parsedHeaders = value;
  }

  get cookies(): Record<string, string> {
    return (this.parsedCookies ??= parseCookies(findHeader(this.scope, "cookie")));
  }
  set cookies(value: Record<string, string>) {
    this.parsedCookies = value;
  }

  /** The request's background tasks (created on first use): run after the response is sent. */
  get background(): BackgroundTasks {
    return backgroundTasks(this.scope);
  }

  /** Status, headers and cookies for a plain return value (created on first use). */
  get response(): ResponseParts {
    return responseParts(this.scope);
  }

  /** The request's `content-type` header, if any. */
  contentType(): string | undefined {
    return findHeader(this.scope, "content-type");
  }
}

const EMPTY_DEPS: Record<string, never> = Object.freeze({}) as Record<string, never>;
