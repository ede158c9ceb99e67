/**
 * Layer 7, the handler: compiles one route declaration into the shortest event-interface app it
 * needs, once, at startup.
 *
 * The compiled app runs, in order: input validation (path, query, headers, cookies, then the body —
 * only the parts that declare a schema, and every problem collected before answering 422),
 * dependency resolution (only when the route has dependencies), the handler, the after-handler
 * cleanups, and serialization with the compiled response serializer. Serialization happens before
 * the response starts, so a value that cannot be serialized becomes a clean 500. Cleanups that
 * must wait for the response are handed to the error layer through `deferAfterResponse`.
 *
 * @module
 */
import type { App, HeaderList, HttpScope, Receive, ReceiveEvent, Send, SendEvent } from "../adapter/events.js";
import { SENT, eventReceivedNow } from "../adapter/events.js";
import type { DependencyResolver, Resolution } from "../di/resolver.js";
import type { DependencyMap } from "../di/dependency.js";
import type { Validator } from "../validator/validator.js";
import type { Serialize, Serializer } from "../serializer/serializer.js";
import type { RouteDeclaration, ResponseSchemas, RouteOptions } from "./route-definition.js";
import type { SchemaLike } from "../validator/schema-types.js";
import { RequestValidationError, RouteDefinitionError, type ValidationIssue } from "../../lib/errors.js";
import { deferAfterResponse } from "../middleware/after-response.js";
import { mergeInputs } from "./merge-schemas.js";
import { compileInputChecks, type InputTarget } from "./input-checks.js";
import { RequestContext } from "./request-context.js";
import { isBodylessStatus, isResponse } from "./responses.js";
import { queueBackgroundTasks } from "./background-tasks.js";
import { responsePartsOf } from "./response-parts.js";
import { parseJsonBody, wholeBodyOrRest } from "../validator/request-inputs.js";
import { compileFormInput, withFormCleanup } from "./form-input.js";
import { resolveFormLimits, type FormLimits } from "../validator/form-limits.js";

/** What compiling a route needs from the app. */
export interface RouteCompileContext {
  validator: Validator;
  serializer: Serializer;
  resolver: DependencyResolver;
  /** The app-wide body limit; a route's `bodyLimit` overrides it. */
  maxBodySize: number;
  /** App-wide form limits; a route's `formLimits` override them. */
  formLimits?: Partial<FormLimits>;
}

function isStatusMap(response: ResponseSchemas): response is { readonly [status: number]: SchemaLike } {
  const keys = Object.keys(response);
  return keys.length > 0 && keys.every((key) => /^[1-5]\d\d$/.test(key));
}

/** Response schemas by status, whichever way they were declared. */
export function responseSchemasByStatus(response: ResponseSchemas | undefined, status: number): Map<number, SchemaLike> {
  const map = new Map<number, SchemaLike>();
  if (response === undefined) return map;
  if (isStatusMap(response)) {
    for (const [key, schema] of Object.entries(response)) map.set(Number(key), schema);
  } else {
    map.set(status, response);
  }
  return map;
}

/** All dependencies of a route: the named ones plus the effect-only `dependencies` list. */
export function allDependencies(options: Pick<RouteOptions, "deps" | "dependencies">): DependencyMap {
  const { deps, dependencies } = options;
  if (dependencies === undefined || dependencies.length === 0) return deps ?? {};
  const map: Record<string, DependencyMap[string]> = { ...deps };
  dependencies.forEach((dep, i) => (map[`\0effect${i}`] = dep));
  return map;
}

const JSON_HEADER = "application/json";

/** Compiles a route into an app. Throws at startup for invalid schemas or dependency graphs. */
export function compileRoute(declaration: RouteDeclaration, context: RouteCompileContext): App {
  const { options, handler } = declaration;
  const label = `${declaration.methods.join(",")} ${declaration.path}`;
  const dependencies = context.resolver.compile(allDependencies(options));
  const inputs = mergeInputs(options, dependencies?.inputs ?? [], label);
  const { validator } = context;

  const validateInputs = compileInputChecks(inputs, validator);
  const checkBody = options.body && validator.compile(options.body, { location: "body", coerce: false });
  const bodyLimit = options.bodyLimit ?? context.maxBodySize;
  if (checkBody !== undefined && options.form !== undefined) throw new RouteDefinitionError(label, "declare `body` (JSON) or `form`, not both");
  const readForm =
    options.form && compileFormInput(options.form, validator, resolveFormLimits(context.formLimits, options.formLimits), bodyLimit, label);

  const status = options.status ?? 200;
  const schemas = responseSchemasByStatus(options.response, status);
  const serialize: Serialize = context.serializer.compile(schemas.get(status), label);
  const bodyless = isBodylessStatus(status);

  /** Parses and validates the JSON body bytes into `ctx`; appends its issues. */
  function checkBodyBytes(ctx: RequestContext, bytes: Buffer, issues: ValidationIssue[] | undefined): ValidationIssue[] | undefined {
    const value = parseJsonBody(bytes, ctx.contentType());
    if (value === undefined) {
      (issues ??= []).push({ loc: ["body"], msg: "Field required", type: "missing", input: null });
      return issues;
    }
    const result = checkBody!(value);
    if (result.ok) (ctx as { body: unknown }).body = result.value;
    else (issues ??= []).push(...result.issues);
    return issues;
  }

  const jsonStart = (length: number): SendEvent => ({
    type: "http.response.start",
    status,
    headers: [
      ["content-type", JSON_HEADER],
      ["content-length", String(length)],
    ],
  });

  /**
   * Sends a handler's result. Serialization happens before anything is sent. Background tasks and
   * response parts live in `scope.extensions`: a request that used neither pays one field check.
   */
  function respond(result: unknown, send: Send, ctx: RequestContext): Promise<void> {
    if (ctx.scope.extensions !== undefined) return respondWithExtras(result, send, ctx);
    return respondPlain(result, send, ctx);
  }

  /** {@link respond} once background tasks are queued and there are no response parts to merge. */
  function respondPlain(result: unknown, send: Send, ctx: RequestContext): Promise<void> {
    if (isResponse(result)) return result.sendTo(send, ctx.scope, ctx.receive);
    if (bodyless) return sendAll(send, { type: "http.response.start", status, headers: [] }, "");
    const json = serialize(result);
    return sendAll(send, jsonStart(Buffer.byteLength(json)), json);
  }

  /** {@link respond} for a request that may have background tasks or response parts. */
  function respondWithExtras(result: unknown, send: Send, ctx: RequestContext): Promise<void> {
    queueBackgroundTasks(ctx.scope);
    const parts = responsePartsOf(ctx.scope);
    // Extensions without response parts (request-scoped services keep their table there): the
    // plain path, without the merging below.
    if (parts === undefined) return respondPlain(result, send, ctx);
    if (isResponse(result)) {
      result.headers.push(...parts.headers);
      return result.sendTo(send, ctx.scope, ctx.receive);
    }
    const finalStatus = parts.status ?? status;
    const extra = parts.headers;
    // A content-type set by the handler replaces the serializer's.
    const ownType = extra.some(([name]) => name === "content-type");
    if (isBodylessStatus(finalStatus)) return sendAll(send, { type: "http.response.start", status: finalStatus, headers: extra }, "");
    const json = serialize(result);
    const headers: HeaderList = ownType ? [] : [["content-type", JSON_HEADER]];
    headers.push(["content-length", String(Buffer.byteLength(json))], ...extra);
    return sendAll(send, { type: "http.response.start", status: finalStatus, headers }, json);
  }

  /** Runs the handler and the after-handler cleanups; defers the after-response ones. */
  async function invoke(ctx: RequestContext, resolution: Resolution, send: Send): Promise<void> {
    let result: unknown;
    let failed = false;
    let error: unknown;
    try {
      result = await handler(ctx as never);
    } catch (thrown) {
      failed = true;
      error = thrown;
    }
    if (!resolution.exits.empty) {
      const exits = resolution.exits;
      try {
        await exits.run("after-handler", failed ? error : undefined);
      } catch (thrown) {
        // A failing cleanup that runs before the response (a commit) makes the request fail.
        if (!failed) {
          failed = true;
          error = thrown;
        }
      }
      const seen = failed ? error : undefined;
      // Background tasks before the after-response cleanups, so a task can still use what they close.
      if (!failed) queueBackgroundTasks(ctx.scope);
      deferAfterResponse(ctx.scope, () => exits.run("after-response", seen));
    }
    if (failed) throw error;
    return respond(result, send, ctx);
  }

  /**
   * The general chain: validation, body, dependencies, handler, cleanups, response. One async
   * frame (plus the body reader's); the handler is awaited only when it returned a promise.
   * `first` is a `receive()` already made (by {@link bodyRoute}).
   */
  async function route(scope: HttpScope, receive: Receive, send: Send, first?: Promise<ReceiveEvent>): Promise<void> {
    const ctx = new RequestContext(scope, receive);
    let issues = validateInputs !== null ? validateInputs(ctx as unknown as InputTarget) : undefined;
    if (checkBody !== undefined) {
      const whole = wholeBodyOrRest(await (first ?? receive()), receive, bodyLimit);
      issues = checkBodyBytes(ctx, whole instanceof Promise ? await whole : whole, issues);
    } else if (readForm !== undefined) {
      issues = await readForm(ctx, issues);
    }
    if (issues !== undefined) throw new RequestValidationError(issues);
    if (dependencies === null) {
      let result: unknown = handler(ctx as never);
      if (isThenable(result)) result = await result;
      return respond(result, send, ctx);
    }
    return withDependencies(ctx, await dependencies.resolve(ctx), send);
  }

  /**
   * Routes without a body: no async frame of their own while the handler is synchronous and the
   * dependencies (if any) resolve synchronously and leave no cleanup (what most graphs do). A
   * synchronous throw reaches the exception layer just the same: it awaits this call inside its try.
   */
  function inputsRoute(scope: HttpScope, receive: Receive, send: Send): Promise<void> {
    const ctx = new RequestContext(scope, receive);
    if (validateInputs !== null) {
      const issues = validateInputs(ctx as unknown as InputTarget);
      if (issues !== undefined) throw new RequestValidationError(issues);
    }
    return afterInputs(ctx, send);
  }

  /**
   * Routes with a JSON body. When the server had the whole body in hand before the app ran (its
   * `receive()` returned the adapter's `receivedNow` promise: node:http pre-reads small bodies), parsing,
   * validation, dependencies, handler and response all run in this call, as for a GET; otherwise
   * the general {@link route} awaits the body.
   */
  function bodyRoute(scope: HttpScope, receive: Receive, send: Send): Promise<void> {
    const first = receive();
    const event = eventReceivedNow(first);
    if (event === undefined || event.type !== "http.request" || event.moreBody === true || event.body.byteLength > bodyLimit) {
      return route(scope, receive, send, first);
    }
    const ctx = new RequestContext(scope, receive);
    const issues = validateInputs !== null ? validateInputs(ctx as unknown as InputTarget) : undefined;
    // One whole event within the limit: wholeBodyOrRest returns its bytes, never a promise.
    const bodyIssues = checkBodyBytes(ctx, wholeBodyOrRest(event, receive, bodyLimit) as Buffer, issues);
    if (bodyIssues !== undefined) throw new RequestValidationError(bodyIssues);
    return afterInputs(ctx, send);
  }

  const resolveNow = dependencies?.resolveNow?.bind(dependencies);

  /** Dependencies (when the route has any), handler and response, once the inputs are valid. */
  function afterInputs(ctx: RequestContext, send: Send): Promise<void> {
    if (dependencies === null) {
      const result = handler(ctx as never);
      if (isThenable(result)) return result.then((value) => respond(value, send, ctx));
      return respond(result, send, ctx);
    }
    const resolution = resolveNow !== undefined ? resolveNow(ctx) : dependencies.resolve(ctx);
    if (resolution instanceof Promise) return resolution.then((resolved) => withDependencies(ctx, resolved, send));
    return withDependencies(ctx, resolution, send);
  }

  /** The handler and response once the dependencies are resolved; {@link invoke} only when there are cleanups. */
  function withDependencies(ctx: RequestContext, resolution: Resolution, send: Send): Promise<void> {
    ctx.deps = resolution.values as Record<string, never>;
    if (!resolution.exits.empty) return invoke(ctx, resolution, send);
    const result = handler(ctx as never);
    if (isThenable(result)) return result.then((value) => respond(value, send, ctx));
    return respond(result, send, ctx);
  }

  // A form route's temporary files are removed after its response, whichever way it ends.
  if (readForm !== undefined) return withFormCleanup(route);
  if (checkBody !== undefined) return bodyRoute as App;
  return inputsRoute as App;
}

/**
 * Whether a handler's result must be awaited. Native promises only (what async handlers return):
 * probing every plain result for a `then` property costs a megamorphic lookup per request, and
 * a handler that returns some other thenable can `await` it itself.
 */
function isThenable(value: unknown): value is Promise<unknown> {
  return value instanceof Promise;
}

/**
 * Sends a whole response: start, then the body once the start was accepted. When the server took
 * the start synchronously (it returned {@link SENT}), the body follows in the same tick, with no
 * promise or closure of our own.
 */
function sendAll(send: Send, start: SendEvent, body: string): Promise<void> {
  const started = send(start);
  if (started === SENT) return send({ type: "http.response.body", body, moreBody: false });
  return started.then(() => send({ type: "http.response.body", body, moreBody: false }));
}
