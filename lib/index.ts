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
  type BodyChunk,
  type BodySource,
  type SetCookieOptions,
  type DeleteCookieOptions,
} from "../layers/handler/responses.js";
export { ResponseHeaders } from "../layers/handler/response-headers.js";
export { ResponseParts, responseParts } from "../layers/handler/response-parts.js";
export { BackgroundTasks, backgroundTasks } from "../layers/handler/background-tasks.js";
export { setCookieHeader, deleteCookieHeader, signCookieValue, unsignCookieValue, type CookieOptions } from "../layers/handler/cookies.js";
export {
  EventSourceResponse,
  formatServerSentEvent,
  lastEventId,
  DEFAULT_PING_INTERVAL,
  type ServerSentEvent,
  type EventSourceItem,
  type EventSourceInit,
} from "../layers/handler/sse.js";
export { FileResponse, guessMediaType, FILE_CHUNK_SIZE, type FileResponseInit, type FileStat } from "../layers/handler/file-response.js";
export { staticFiles, type StaticFilesOptions } from "../layers/handler/static-files.js";
export { contentDisposition, type DispositionType } from "../layers/handler/content-disposition.js";
export { UploadFile, UploadFileSchema, isFileSchema, type UploadFileSchemaOptions } from "../layers/handler/upload-file.js";
export { DEFAULT_FORM_LIMITS, type FormLimits } from "../layers/validator/form-limits.js";
export type { RouteOptions, HandlerContext, Handler } from "../layers/handler/route-definition.js";
export { dependency, type FunctionDependency, type DependencySpec, type SecurityRequirement } from "../layers/di/dependency.js";
export type { Lifetime } from "../layers/di/resolver.js";
export { DEFAULT_LIMITS, type ServerLimits, type ListenOptions, type ConnectionServer } from "../layers/server/connection-server.js";
export { Type, type Static } from "@sinclair/typebox";
export { TsyringeResolver, REQUEST_SCOPE } from "../layers/di/tsyringe-resolver.js";
export { injectable, inject, singleton } from "../layers/di/decorators.js";
export { apiKeyHeader, apiKeyQuery, apiKeyCookie, API_KEY_CHALLENGE, type ApiKeyOptions } from "./security/api-key.js";
export { httpBasic, parseBasicCredentials, type BasicCredentials, type HttpBasicOptions } from "./security/http-basic.js";
export { httpBearer, readBearerToken, bearerChallenge, type HttpBearerOptions } from "./security/http-bearer.js";
export { oauth2PasswordBearer, type OAuth2PasswordBearerOptions } from "./security/oauth2-password-bearer.js";
export { requireScopes, type Principal, type VerifyContext, type VerifyToken } from "./security/require-scopes.js";
export { readPasswordForm, parsePasswordForm, PASSWORD_FORM_REQUEST_BODY, type PasswordRequestForm, type PasswordFormOptions } from "./security/password-form.js";
export { safeCompare } from "./security/safe-compare.js";
export { hashPassword, verifyPassword, needsRehash, DEFAULT_SCRYPT_PARAMS, type ScryptParams } from "./security/password-hash.js";
export { signJwt, verifyJwt, type JwtClaims, type SignJwtOptions, type VerifyJwtOptions } from "./security/jwt-hs256.js";
export {
  NOT_AUTHENTICATED,
  INVALID_CREDENTIALS,
  NOT_ENOUGH_PERMISSIONS,
  type SecurityDependency,
  type SchemeOptions,
} from "./security/security-dependency.js";
export { generateOpenApi, summaryFromName } from "./openapi/generate-openapi.js";
export { mergeOpenApiExtra } from "./openapi/openapi-extra.js";
export { toOpenApi30, convertSchema } from "./openapi/openapi-30.js";
export { OpenApiError } from "./openapi/openapi-error.js";
export { docsRoutes, type OpenApiAppOptions } from "./openapi/docs-routes.js";
export type {
  OpenApiDocument,
  OpenApiVersion,
  OpenApiMetadata,
  OpenApiServer,
  OpenApiOperation,
  OpenApiParameter,
  OpenApiResponse,
} from "./openapi/openapi-types.js";
export { traceOf, TRACE_KEY, type TraceRecord, type TraceSpan, type TraceLayer, type TracedRoute, type ScopeSummary } from "./trace/trace-record.js";
export type { TraceOptions } from "./trace/trace-options.js";
export { formatTrace, type TracedResponse } from "./trace/waterfall.js";
