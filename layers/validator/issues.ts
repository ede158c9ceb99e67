/**
 * Maps ajv's errors to FastAPI / pydantic v2 shaped issues: `{ loc, msg, type, input?, ctx? }`.
 *
 * `loc` is the input location followed by the path into the value (array indices as numbers,
 * object keys as strings, decoded from ajv's JSON Pointer); `type` and `msg` follow pydantic's
 * names where one fits (`int_parsing`, `string_too_short`, `greater_than_equal`, `missing`,
 * `extra_forbidden`, …) so clients written against FastAPI keep working. Messages are fixed
 * templates filled with schema constants: deterministic, never a stack trace.
 *
 * Unions (`anyOf`/`oneOf`) are collapsed to one issue, or to the errors of the one branch the
 * input was evidently meant for (see `union-issues.ts`), instead of ajv's one error per branch.
 *
 * @module
 */
import type { Ajv, ErrorObject } from "ajv";
import type { ValidationIssue } from "../../lib/errors.js";
import { describeType, joinAlternatives, plural, repr } from "./issue-text.js";
import { unionIssues, unionBranchErrors } from "./union-issues.js";
import type { InputLocation } from "./validator.js";

/** What the mapper needs to know about the check that produced the errors. */
export interface IssueContext {
  location: InputLocation;
  /** The check coerced strings: a string that failed a number type was *unparsable*. */
  coerce: boolean;
  /** The instance that compiled the check (unions resolve and re-check branches with it). */
  ajv: Ajv;
  /** Leading instance-path segments to hide (the coercing check's `{ value }` holder). */
  skip?: number;
}

type Loc = Array<string | number>;

/**
 * Converts one failed check's errors into issues.
 *
 * @param errors `validate.errors` (ajv compiled with `verbose: true`, for `data` and `schema`).
 * @param root the value that was checked (after in-place coercion), used to tell array indices
 *   from object keys that look like numbers.
 * @param base the `loc` prefix; defaults to `[context.location]`.
 */
export function mapAjvErrors(
  errors: readonly ErrorObject[] | null | undefined,
  root: unknown,
  context: IssueContext,
  base: Loc = [context.location],
): ValidationIssue[] {
  if (!errors || errors.length === 0) return [{ loc: base, msg: "Input is invalid", type: "value_error" }];
  const skipped = unionBranchErrors(errors);
  const issues: ValidationIssue[] = [];
  for (let i = 0; i < errors.length; i++) {
    if (skipped.has(i)) continue;
    const error = errors[i]!;
    const loc = locate(error.instancePath, root, base, context.skip ?? 0);
    if (error.keyword === "anyOf" || error.keyword === "oneOf") {
      issues.push(...unionIssues(error, loc, context, mapAjvErrors));
      continue;
    }
    const issue = keywordIssue(error, loc, context);
    if (issue !== undefined) issues.push(issue);
  }
  return issues;
}

/** Turns an ajv JSON Pointer (`/tags/0`) into loc segments, walking `root` to type indices. */
function locate(instancePath: string, root: unknown, base: Loc, skip: number): Loc {
  const loc = base.slice();
  if (instancePath === "") return loc;
  let current: unknown = root;
  const segments = instancePath.split("/");
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i]!.replace(/~1/g, "/").replace(/~0/g, "~");
    const isIndex = Array.isArray(current);
    current = typeof current === "object" && current !== null ? (current as Record<string, unknown>)[segment] : undefined;
    if (i > skip) loc.push(isIndex ? Number(segment) : segment);
  }
  return loc;
}

/** The issue for one non-union ajv error, or undefined for errors that only summarise others. */
function keywordIssue(error: ErrorObject, loc: Loc, context: IssueContext): ValidationIssue | undefined {
  const params = error.params as Record<string, unknown>;
  const input: unknown = error.data;
  // Errors about a property *name* (under `propertyNames`) are summarised by that keyword's own
  // error, which carries the name; `if` only says which branch failed, its branch errors say why.
  if (error.propertyName !== undefined || error.keyword === "if") return undefined;
  switch (error.keyword) {
    case "type":
      return typeIssue(String(params.type), input, loc, context);
    case "required":
    case "dependentRequired":
    case "dependencies":
      // pydantic reports the parent object as `input` of a missing body field; for query, header
      // and cookie inputs that object is every parameter of the request (headers include
      // credentials), so those get null, as FastAPI does.
      return {
        loc: [...loc, String(params.missingProperty)],
        msg: "Field required",
        type: "missing",
        input: context.location === "body" ? input : null,
      };
    case "additionalProperties":
    case "unevaluatedProperties": {
      const key = String(params.additionalProperty ?? params.unevaluatedProperty);
      const value = typeof input === "object" && input !== null ? (input as Record<string, unknown>)[key] : undefined;
      return { loc: [...loc, key], msg: "Extra inputs are not permitted", type: "extra_forbidden", input: value };
    }
    case "false schema":
      return { loc, msg: "Extra inputs are not permitted", type: "extra_forbidden", input };
    case "minLength": {
      const n = Number(params.limit);
      return { loc, msg: `String should have at least ${plural(n, "character")}`, type: "string_too_short", input, ctx: { min_length: n } };
    }
    case "maxLength": {
      const n = Number(params.limit);
      return { loc, msg: `String should have at most ${plural(n, "character")}`, type: "string_too_long", input, ctx: { max_length: n } };
    }
    case "minimum":
      return bound(loc, input, "greater than or equal to", "greater_than_equal", "ge", params.limit);
    case "maximum":
      return bound(loc, input, "less than or equal to", "less_than_equal", "le", params.limit);
    case "exclusiveMinimum":
      return bound(loc, input, "greater than", "greater_than", "gt", params.limit);
    case "exclusiveMaximum":
      return bound(loc, input, "less than", "less_than", "lt", params.limit);
    case "multipleOf":
      return { loc, msg: `Input should be a multiple of ${String(params.multipleOf)}`, type: "multiple_of", input, ctx: { multiple_of: params.multipleOf } };
    case "minItems":
    case "maxItems":
    case "minProperties":
    case "maxProperties":
      return sizeIssue(error.keyword, Number(params.limit), input, loc);
    case "uniqueItems":
      return {
        loc,
        msg: `List should have unique items; items ${String(params.j)} and ${String(params.i)} are identical`,
        type: "unique_items",
        input,
        ctx: { duplicates: [params.j, params.i] },
      };
    case "pattern":
      return { loc, msg: `String should match pattern '${String(params.pattern)}'`, type: "string_pattern_mismatch", input, ctx: { pattern: params.pattern } };
    case "format":
      return { loc, msg: `Value error, input is not a valid ${String(params.format)}`, type: "value_error", input, ctx: { format: params.format } };
    case "enum": {
      const expected = joinAlternatives((params.allowedValues as unknown[]).map(repr));
      return { loc, msg: `Input should be ${expected}`, type: "enum", input, ctx: { expected } };
    }
    case "const": {
      const expected = repr(params.allowedValue);
      return { loc, msg: `Input should be ${expected}`, type: "literal_error", input, ctx: { expected } };
    }
    case "propertyNames": {
      const name = String(params.propertyName);
      return { loc: [...loc, name], msg: `Invalid key ${repr(name)}`, type: "invalid_key", input: name };
    }
    case "not":
      return { loc, msg: "Value error, input matches a schema it must not match", type: "value_error", input };
    default:
      // Anything else (contains, formatMinimum, a custom keyword): ajv's own wording, which is
      // deterministic, with the keyword for machines.
      return { loc, msg: `Value error, ${error.message ?? "input is invalid"}`, type: "value_error", input, ctx: { keyword: error.keyword } };
  }
}

/**
 * A `type` failure. With coercion on, a string that reached here could not be converted, which
 * pydantic calls `*_parsing`; without it, the JSON value had the wrong type (`*_type`).
 */
function typeIssue(types: string, input: unknown, loc: Loc, context: IssueContext): ValidationIssue {
  const list = types.split(",");
  const main = list.find((t) => t !== "null") ?? "null";
  const parsing = context.coerce && typeof input === "string";
  const { type, msg } = singleTypeIssue(main, input, parsing);
  if (list.length === 1) return { loc, msg, type, input };
  // `type: ["string", "null"]` (a nullable field): name every accepted type.
  return { loc, msg: `Input should be ${joinAlternatives(list.map(describeType))}`, type, input };
}

function singleTypeIssue(type: string, input: unknown, parsing: boolean): { type: string; msg: string } {
  switch (type) {
    case "integer":
      if (parsing) return { type: "int_parsing", msg: "Input should be a valid integer, unable to parse string as an integer" };
      if (typeof input === "number" && Number.isFinite(input)) {
        return { type: "int_from_float", msg: "Input should be a valid integer, got a number with a fractional part" };
      }
      return { type: "int_type", msg: "Input should be a valid integer" };
    case "number":
      if (parsing) return { type: "float_parsing", msg: "Input should be a valid number, unable to parse string as a number" };
      return { type: "float_type", msg: "Input should be a valid number" };
    case "boolean":
      if (parsing) return { type: "bool_parsing", msg: "Input should be a valid boolean, unable to interpret input" };
      return { type: "bool_type", msg: "Input should be a valid boolean" };
    case "string":
      return { type: "string_type", msg: "Input should be a valid string" };
    case "array":
      return { type: "list_type", msg: "Input should be a valid list" };
    case "object":
      return { type: "dict_type", msg: "Input should be a valid dictionary" };
    case "null":
      return { type: "none_required", msg: "Input should be null" };
    default:
      return { type: "value_error", msg: `Input should be ${describeType(type)}` };
  }
}

function bound(loc: Loc, input: unknown, words: string, type: string, key: string, limit: unknown): ValidationIssue {
  return { loc, msg: `Input should be ${words} ${String(limit)}`, type, input, ctx: { [key]: limit } };
}

/** minItems & co., in pydantic's words: "List should have at least 1 item after validation, not 0". */
function sizeIssue(keyword: string, limit: number, input: unknown, loc: Loc): ValidationIssue {
  const isList = keyword.endsWith("Items");
  const fieldType = isList ? "List" : "Dictionary";
  const actual = isList ? (Array.isArray(input) ? input.length : 0) : typeof input === "object" && input !== null ? Object.keys(input).length : 0;
  const atLeast = keyword.startsWith("min");
  const ctx = atLeast
    ? { field_type: fieldType, min_length: limit, actual_length: actual }
    : { field_type: fieldType, max_length: limit, actual_length: actual };
  return {
    loc,
    msg: `${fieldType} should have ${atLeast ? "at least" : "at most"} ${plural(limit, "item")} after validation, not ${actual}`,
    type: atLeast ? "too_short" : "too_long",
    input,
    ctx,
  };
}
