/**
 * Layer 3: every request gets an ID that follows it through the logs and back to the client.
 *
 * An incoming ID (from a load balancer, an upstream service, a client retrying) is kept when it is
 * well-formed; anything else is replaced by a fresh one, since the value ends up in log lines and
 * response headers: at most {@link MAX_REQUEST_ID_LENGTH} characters of `A-Z a-z 0-9 - _ . : + / = @`
 * (UUIDs, ULIDs, base64, `Root=1-…` style trace IDs). CR/LF (log and header injection), spaces,
 * quotes, non-ASCII, empty values, 10 KB values and a header sent twice are all replaced, never
 * rejected: an ID is a courtesy, not a reason to fail a request.
 *
 * The ID is echoed on the response (`http.response.start`), on the 101 of an accepted WebSocket
 * and on a WebSocket denial, replacing a header of the same name the app set. Handlers and other
 * layers read it with {@link requestIdOf}; the access log does.
 *
 * It is stored in `scope.extensions`, not on the scope object itself: a mounted app receives a
 * copy of the scope (`{ ...scope, … }`, see router-app.ts), which shares the `extensions` object
 * but would not see a property added to the original, and the uWS scope is a class instance whose
 * shape should not grow per request.
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import type { App, ConnectionScope, HeaderList, Scope, Send, SendEvent } from "../adapter/events.js";
import type { Middleware } from "./middleware.js";

/** The longest incoming ID accepted (a UUID is 36, a W3C traceparent 55). */
export const MAX_REQUEST_ID_LENGTH = 128;

const VALID_ID = new RegExp(`^[A-Za-z0-9\\-_.:+/=@]{1,${MAX_REQUEST_ID_LENGTH}}$`);

const KEY = "laminar.requestId";

/** Options of {@link requestId}. */
export interface RequestIdOptions {
  /** The header read and echoed (case-insensitive). Default `x-request-id`. */
  header?: string;
  /** Makes a new ID. Default `crypto.randomUUID()`. Called once per request that needs one. */
  generate?: () => string;
  /** Keep a well-formed incoming ID. Default true; false always generates (an edge service). */
  trustIncoming?: boolean;
}

/** Whether `value` is kept as an incoming request ID. */
export function isValidRequestId(value: string): boolean {
  return VALID_ID.test(value);
}

/**
 * The request's ID, or undefined when no {@link requestId} layer ran before the caller.
 *
 * @example
 * app.get("/orders", ({ scope }) => {
 *   logger.info({ requestId: requestIdOf(scope) }, "listing orders");
 * });
 */
export function requestIdOf(scope: Scope): string | undefined {
  if (scope.type === "lifespan") return undefined;
  return scope.extensions?.[KEY] as string | undefined;
}

/**
 * Creates the request-ID layer. Throws a `TypeError` for a header name that is not a token.
 *
 * @example
 * app.wrap(requestId());
 * app.wrap(requestId({ header: "x-correlation-id", generate: () => ulid() }));
 */
export function requestId(options: RequestIdOptions = {}): Middleware {
  const header = (options.header ?? "x-request-id").toLowerCase();
  if (!/^[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(header)) throw new TypeError(`requestId: invalid header name ${JSON.stringify(options.header)}`);
  const generate = options.generate ?? randomUUID;
  const trustIncoming = options.trustIncoming ?? true;

  const idFor = (scope: ConnectionScope): string => {
    if (trustIncoming) {
      let incoming: string | undefined;
      let count = 0;
      for (const [name, value] of scope.headers) {
        if (name === header) {
          incoming = value;
          count++;
        }
      }
      if (count === 1 && isValidRequestId(incoming!)) return incoming!;
    }
    return generate();
  };

  return (next: App): App =>
    function requestIdLayer(scope, receive, send) {
      if (scope.type === "lifespan") return next(scope, receive, send);
      const id = idFor(scope);
      (scope.extensions ??= {})[KEY] = id;
      return next(scope, receive, echoingSend(send, header, id));
    };
}

/** A `send` that sets `header: id` on the response start (HTTP, WebSocket accept or denial). */
function echoingSend(send: Send, header: string, id: string): Send {
  return (event: SendEvent) => {
    switch (event.type) {
      case "http.response.start":
        return send({ ...event, headers: withHeader(event.headers, header, id) });
      case "websocket.http.response.start":
        return send({ ...event, headers: withHeader(event.headers, header, id) });
      case "websocket.accept":
        return send({ ...event, headers: withHeader(event.headers ?? [], header, id) });
      default:
        return send(event);
    }
  };
}

/** `headers` without any `name` line, plus `name: value` (a new list: the app's may be shared). */
function withHeader(headers: HeaderList, name: string, value: string): HeaderList {
  const result: HeaderList = [];
  for (const entry of headers) if (entry[0].toLowerCase() !== name) result.push(entry);
  result.push([name, value]);
  return result;
}
