/**
 * The error catalogue: every error laminar itself raises, in one place.
 *
 * Each entry is a class with a stable `code`, a message template (`%s` placeholders filled from the
 * constructor's arguments) and the HTTP status it maps to when it escapes into a request. The
 * exception layer maps errors to responses by looking up the error's class (walking its prototype
 * chain), never by an `instanceof` ladder, so a user's handler for a base class catches subclasses.
 *
 * User code raises {@link HttpException} (FastAPI's `HTTPException`); laminar's own failures use the
 * classes below.
 *
 * @module
 */
import { format } from "node:util";
import type { HeaderList } from "../layers/adapter/events.js";

/** Base class of every catalogued laminar error. */
export class LaminarError extends Error {
  /** Stable machine-readable code, `LMR_ERR_*`. */
  readonly code: string;
  /** HTTP status used when this error escapes into a request. */
  readonly statusCode: number;

  constructor(code: string, message: string, statusCode: number, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.statusCode = statusCode;
  }

  override get name(): string {
    return this.constructor.name;
  }
}

/** A catalogued error class: `new Cls(...args)` formats the template with `args`. */
export type LaminarErrorClass = new (...args: unknown[]) => LaminarError;

/**
 * Declares a catalogued error class.
 *
 * @example
 * const BodyTooLarge = defineError("LMR_ERR_BODY_TOO_LARGE", "Request body larger than %d bytes", 413);
 * throw new BodyTooLarge(1048576);
 */
function defineError(code: string, template: string, statusCode: number, name: string): LaminarErrorClass {
  const cls = class extends LaminarError {
    constructor(...args: unknown[]) {
      const last = args[args.length - 1];
      const cause = last instanceof Error ? last : undefined;
      super(code, format(template, ...args), statusCode, cause ? { cause } : undefined);
    }
  };
  Object.defineProperty(cls, "name", { value: name });
  return cls;
}

// --- Protocol (adapter) ---------------------------------------------------------------------

/** The app broke the event protocol (body before start, start twice, anything after the end). */
export const ProtocolError = defineError("LMR_ERR_PROTOCOL", "Protocol error: expected %s, got %s", 500, "ProtocolError");
/** The app returned without sending a complete response. */
export const ResponseNotCompletedError = defineError(
  "LMR_ERR_RESPONSE_NOT_COMPLETED",
  "App returned without completing the response (%s)",
  500,
  "ResponseNotCompletedError",
);

// --- Request body ---------------------------------------------------------------------------

/** The request body exceeded the configured limit (checked while streaming). */
export const BodyTooLargeError = defineError("LMR_ERR_BODY_TOO_LARGE", "Request body larger than %d bytes", 413, "BodyTooLargeError");
/** The body's Content-Type is not one the route accepts. */
export const UnsupportedMediaTypeError = defineError(
  "LMR_ERR_UNSUPPORTED_MEDIA_TYPE",
  "Unsupported media type %s: expected %s",
  415,
  "UnsupportedMediaTypeError",
);
/** The client disconnected before the whole body arrived. */
export const ClientDisconnectedError = defineError("LMR_ERR_CLIENT_DISCONNECTED", "Client disconnected %s", 499, "ClientDisconnectedError");

// --- Responses ------------------------------------------------------------------------------

/** A handler's return value could not be serialized (circular, BigInt, schema mismatch). */
export const SerializationError = defineError(
  "LMR_ERR_SERIALIZATION",
  "Could not serialize the response of %s: %s",
  500,
  "SerializationError",
);

// --- Startup (route, dependency and schema declarations) ------------------------------------

/** Two routes claim the same method and path, or a path is not valid router syntax. */
export const RouteDefinitionError = defineError("LMR_ERR_ROUTE_DEFINITION", "Invalid route %s: %s", 500, "RouteDefinitionError");
/** A dependency depends on itself, directly or through others. */
export const DependencyCycleError = defineError("LMR_ERR_DEPENDENCY_CYCLE", "Dependency cycle: %s", 500, "DependencyCycleError");
/** A declared dependency is neither a function dependency nor a class token. */
export const InvalidDependencyError = defineError("LMR_ERR_INVALID_DEPENDENCY", "Invalid dependency %s: %s", 500, "InvalidDependencyError");
/** A JSON Schema that ajv or the serializer compiler rejected. */
export const SchemaCompileError = defineError("LMR_ERR_SCHEMA_COMPILE", "Invalid schema for %s: %s", 500, "SchemaCompileError");
/** The uWebSockets.js binary could not be loaded (not installed, or no build for this platform/Node ABI). */
export const UwsUnavailableError = defineError(
  "LMR_ERR_UWS_UNAVAILABLE",
  "uWebSockets.js could not be loaded (%s); use the default node:http server instead (omit `server`, or pass server: \"node\")",
  500,
  "UwsUnavailableError",
);

// --- Task queue (lib/tasks) ----------------------------------------------------------------
// Class names are Celery's, so a failure reads the same in a laminar result and a Python one.

/** A worker received a task name nobody registered. */
export const NotRegistered = defineError("LMR_ERR_TASK_NOT_REGISTERED", "Task %s is not registered on this worker", 500, "NotRegistered");
/** A task's arguments failed its `argsSchema` (at publish or at execution); never retried. */
export const TaskArgumentsError = defineError("LMR_ERR_TASK_ARGUMENTS", "Arguments of task %s are invalid: %s", 422, "TaskArgumentsError");
/** The soft time limit passed: the reason of the task's AbortSignal. */
export const SoftTimeLimitExceeded = defineError("LMR_ERR_SOFT_TIME_LIMIT", "Soft time limit (%ss) exceeded", 500, "SoftTimeLimitExceeded");
/** The hard time limit passed: the task was stopped. */
export const TimeLimitExceeded = defineError("LMR_ERR_TIME_LIMIT", "Time limit (%ss) exceeded", 500, "TimeLimitExceeded");
/** A retry was asked past `maxRetries` and no error was given to fail with. */
export const MaxRetriesExceededError = defineError("LMR_ERR_MAX_RETRIES", "Can't retry %s[%s]: max retries (%d) exceeded", 500, "MaxRetriesExceededError");
/** The task was revoked (or expired) before or while it ran. */
export const TaskRevokedError = defineError("LMR_ERR_TASK_REVOKED", "Task %s was revoked: %s", 500, "TaskRevokedError");
/** A chord member failed, so its callback cannot run. */
export const ChordError = defineError("LMR_ERR_CHORD", "Dependency %s raised %s", 500, "ChordError");
/** `AsyncResult.get()` waited longer than its timeout. */
export const TaskTimeoutError = defineError("LMR_ERR_TASK_WAIT_TIMEOUT", "The operation timed out waiting for task %s (%ss)", 504, "TimeoutError");
/** A broker or result backend cannot be opened or used (a locked or corrupt SQLite file, a refused connection). */
export const BrokerUnavailable = defineError("LMR_ERR_BROKER_UNAVAILABLE", "Broker %s is unavailable: %s", 503, "BrokerUnavailable");
/**
 * The process running a task died before the task finished (killed, out of memory, crashed): Celery's
 * `WorkerLostError`, with its message ("Worker exited prematurely: signal 9 (SIGKILL).").
 */
export const WorkerLostError = defineError("LMR_ERR_WORKER_LOST", "Worker exited prematurely: %s", 500, "WorkerLostError");

// --- Errors users raise ---------------------------------------------------------------------

/**
 * Raise from a handler or dependency to answer with `status` and `{"detail": detail}`
 * (FastAPI's `HTTPException`).
 *
 * @example
 * throw new HttpException(404, "Book not found");
 */
export class HttpException extends Error {
  readonly status: number;
  readonly detail: unknown;
  readonly headers: HeaderList | undefined;

  constructor(status: number, detail?: unknown, headers?: HeaderList) {
    super(typeof detail === "string" ? detail : `HTTP ${status}`);
    this.status = status;
    this.detail = detail === undefined ? defaultReason(status) : detail;
    this.headers = headers;
  }

  override get name(): string {
    return "HttpException";
  }
}

/**
 * Raise from a WebSocket handler or dependency to close the connection with `code` and `reason`
 * (Starlette's `WebSocketException`). Raised before the handshake was accepted, it rejects the
 * handshake (403), as a `websocket.close` would.
 *
 * @example
 * throw new WebSocketException(1008, "Room is full");
 */
export class WebSocketException extends Error {
  readonly code: number;
  readonly reason: string;

  constructor(code: number, reason = "") {
    super(reason === "" ? `WebSocket closed with ${code}` : reason);
    this.code = code;
    this.reason = reason;
  }

  override get name(): string {
    return "WebSocketException";
  }
}

/**
 * The client closed the WebSocket (or the connection was lost: code 1006). Thrown by the
 * connection's `receive*()` helpers, as Starlette's `WebSocketDisconnect`; a handler that lets it
 * escape has simply ended, it is not logged as an error.
 */
export class WebSocketDisconnect extends Error {
  readonly code: number;
  readonly reason: string;

  constructor(code: number, reason = "") {
    super(`WebSocket disconnected with ${code}${reason === "" ? "" : `: ${reason}`}`);
    this.code = code;
    this.reason = reason;
  }

  override get name(): string {
    return "WebSocketDisconnect";
  }
}

/** One validation problem, in FastAPI's shape: where, what, and a machine-readable type. */
export interface ValidationIssue {
  /** Location: `["body", "price"]`, `["path", "id"]`, `["query", "tags", 2]`. */
  loc: Array<string | number>;
  msg: string;
  type: string;
  /** The offending value, when there is one. */
  input?: unknown;
  /** Constraint values (`{ limit: 10 }`), when the check has any. */
  ctx?: Record<string, unknown>;
}

/** Request inputs failed validation: answered with 422 and every issue (FastAPI's `RequestValidationError`). */
export class RequestValidationError extends Error {
  readonly issues: ValidationIssue[];

  constructor(issues: ValidationIssue[]) {
    super(`${issues.length} validation error${issues.length === 1 ? "" : "s"}`);
    this.issues = issues;
  }

  override get name(): string {
    return "RequestValidationError";
  }
}

const REASONS: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  409: "Conflict",
  413: "Content Too Large",
  414: "URI Too Long",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

/** The standard reason phrase for a status (RFC 9110 §15), or `"Error"` for unknown codes. */
export function defaultReason(status: number): string {
  return REASONS[status] ?? "Error";
}
