/**
 * laminar's public API.
 *
 * The user-facing class is {@link App}; the event-interface function type every layer speaks is
 * exported as `EventApp` (inside `layers/` it is simply `App`).
 *
 * @module
 */
export { App, type AppOptions } from "./app.js";
export { APIRouter, type RouterOptions } from "./api-router.js";
export { TestClient, TestResponse, type TestClientOptions, type TestRequestOptions } from "./test-client.js";
export { LifespanRunner, LifespanStartupError, type LifespanHandler } from "./lifespan.js";
export { createLogger, silentLogger, type Logger } from "./logger.js";
export * from "./errors.js";
export type {
  App as EventApp,
  HttpScope,
  LifespanScope,
  Scope,
  Receive,
  Send,
  ReceiveEvent,
  SendEvent,
  HeaderList,
  ConnectionScope,
  WebSocketScope,
} from "../layers/adapter/events.js";
export { WebSocketConnection, type WebSocketMessage, type AcceptOptions, type WebSocketState } from "../layers/handler/websocket-connection.js";
export type { WebSocketContext, WebSocketHandler, WebSocketRouteOptions } from "../layers/handler/websocket-route.js";
export { compose, type Middleware } from "../layers/middleware/middleware.js";
export { ExceptionHandlers, type ExceptionHandler } from "../layers/middleware/exception-middleware.js";
export { requestTimeout, RequestTimeoutError, type RequestTimeoutOptions } from "../layers/middleware/request-timeout.js";
export { requestSignal } from "../layers/middleware/request-signal.js";
export { trustedHost, INVALID_HOST_TEXT, type TrustedHostOptions } from "../layers/middleware/trusted-host.js";
export { httpsRedirect } from "../layers/middleware/https-redirect.js";
export { requestId, requestIdOf, isValidRequestId, MAX_REQUEST_ID_LENGTH, type RequestIdOptions } from "../layers/middleware/request-id.js";
export { session, sessionOf, clearSession, SessionTooLargeError, SessionNotInstalledError, type SessionOptions } from "../layers/middleware/session.js";
export { accessLog, CLIENT_CLOSED_STATUS, type AccessLogOptions } from "../layers/middleware/access-log.js";
export { cors, type CorsOptions } from "../layers/middleware/cors.js";
export { compression, isCompressible, type CompressionOptions, type Coding } from "../layers/middleware/compression.js";
export { proxyHeaders, parseTrustedProxies, type ProxyHeadersOptions, type TrustedProxies } from "../layers/middleware/proxy-headers.js";
export {
  Response,
  JSONResponse,
  PlainTextResponse,
  HTMLResponse,
  RedirectResponse,
  EmptyResponse,
  StreamingResponse,
  OutgoingResponse,
  type ResponseInit,
  type SetCookieOptions,
  type DeleteCookieOptions,
} from "../layers/handler/responses.js";
export { ResponseHeaders } from "../layers/handler/response-headers.js";
export { ResponseParts, responseParts } from "../layers/handler/response-parts.js";
export { BackgroundTasks, backgroundTasks } from "../layers/handler/background-tasks.js";
export { setCookieHeader, deleteCookieHeader, signCookieValue, unsignCookieValue, type CookieOptions } from "../layers/handler/cookies.js";
export type { RouteOptions, HandlerContext, Handler } from "../layers/handler/route-definition.js";
export { dependency, type FunctionDependency, type DependencySpec } from "../layers/di/dependency.js";
export type { Lifetime } from "../layers/di/resolver.js";
export { DEFAULT_LIMITS, type ServerLimits, type ListenOptions, type ConnectionServer } from "../layers/server/connection-server.js";
export { Type, type Static } from "@sinclair/typebox";
export { TsyringeResolver, REQUEST_SCOPE } from "../layers/di/tsyringe-resolver.js";
export { injectable, inject, singleton } from "../layers/di/decorators.js";
