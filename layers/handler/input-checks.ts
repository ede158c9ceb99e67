/**
 * The checks of a route's non-body inputs (path, query, headers, cookies), compiled once and run
 * per request into the handler's context. Shared by HTTP and WebSocket routes.
 *
 * @module
 */
import type { InputSchemas } from "../di/dependency.js";
import type { Check, Validator } from "../validator/validator.js";
import type { ValidationIssue } from "../../lib/errors.js";

/** The request parts validated before the body, as named on the handler's context. */
export type InputPart = "params" | "query" | "headers" | "cookies";

/** Where the checked values go: a handler context (raw values in, validated values out). */
export type InputTarget = Record<InputPart, unknown>;

/**
 * Validates the parts that declare a schema into `target`, in report order (path, query, header,
 * cookie); returns every issue found, or undefined when all passed.
 */
export type InputChecks = (target: InputTarget) => ValidationIssue[] | undefined;

/** Compiles the checks for `inputs`; null when no part declares a schema (nothing to run). */
export function compileInputChecks(inputs: InputSchemas, validator: Validator): InputChecks | null {
  const checks: Array<[InputPart, Check]> = [];
  if (inputs.params) checks.push(["params", validator.compile(inputs.params, { location: "path", coerce: true })]);
  if (inputs.query) checks.push(["query", validator.compile(inputs.query, { location: "query", coerce: true })]);
  if (inputs.headers) checks.push(["headers", validator.compile(inputs.headers, { location: "header", coerce: true })]);
  if (inputs.cookies) checks.push(["cookies", validator.compile(inputs.cookies, { location: "cookie", coerce: true })]);
  if (checks.length === 0) return null;
  return (target) => {
    let issues: ValidationIssue[] | undefined;
    for (let i = 0; i < checks.length; i++) {
      const [part, check] = checks[i]!;
      // Checks coerce in place: path parameters are copied so scope.pathParams keeps its strings.
      const value = target[part];
      const result = check(part === "params" ? { ...(value as object) } : value);
      if (result.ok) target[part] = result.value;
      else (issues ??= []).push(...result.issues);
    }
    return issues;
  };
}
