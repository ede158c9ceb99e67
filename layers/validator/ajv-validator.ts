/**
 * The first {@link Validator}: ajv 8 with ajv-formats, accepting TypeBox schemas as they are.
 *
 * Two ajv instances share every added schema:
 *
 * - a coercing one (`coerceTypes: "array"`) for path, query, header and cookie inputs, which arrive
 *   as strings: `"5"` becomes `5` where an integer is declared, a single `?tag=a` becomes `["a"]`
 *   where an array is declared, and a one-element array becomes its element where a scalar is
 *   (fastify's defaults for querystrings, `@fastify/ajv-compiler`);
 * - a strict one for JSON bodies, where JSON types are real types: `"5"` is not an integer
 *   (pydantic's strictness on JSON input is laxer; FastAPI users rarely rely on it, and silent
 *   coercion of bodies hides client bugs).
 *
 * Both collect every error (`allErrors`), apply `default`s (a query `limit` with `default: 20`
 * appears in `value`), check own properties only (`ownProperties`: a body `{}` must not satisfy
 * `required: ["constructor"]` through `Object.prototype`), and run in `strictSchema` mode so a
 * misspelt keyword (`minLenght`) or an unknown `format` fails at startup instead of validating
 * nothing. The other strict checks (`strictTypes`, `strictTuples`, `strictRequired`) are off: they
 * reject schemas TypeBox legitimately produces (an `anyOf` of literals without a parent `type`).
 * TypeBox's own markers are symbol keys (`[Kind]`, `[OptionalKind]`), which ajv never reads.
 *
 * Schemas are compiled once (ajv caches by schema object, so compiling the same object for two
 * routes reuses the function). Checks mutate their input in place (coercion, defaults): callers
 * pass a fresh per-request object, never a shared one.
 *
 * @module
 */
import { Ajv, type Options as AjvOptions, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import { SchemaCompileError } from "../../lib/errors.js";
import { mapAjvErrors, type IssueContext } from "./issues.js";
import type { Check, CheckResult, CompileOptions, JsonSchema, Validator } from "./validator.js";

// ajv-formats is CommonJS with `exports.default`; under NodeNext the default import is the module
// object, whose `.default` is the plugin (both are the same function at run time).
const addFormats = addFormatsModule.default;

/** Options for {@link AjvValidator}. */
export interface AjvValidatorOptions {
  /**
   * Extra annotation keywords to accept in schemas (strict mode rejects unknown keywords).
   * `example` (OpenAPI 3.0) is always accepted.
   */
  keywords?: string[];
}

/** Annotation keywords accepted beyond JSON Schema's own (`title`, `description`, `examples`, …). */
const DEFAULT_KEYWORDS = ["example"];

/**
 * ajv-backed validator.
 *
 * @example
 * const validator = new AjvValidator();
 * const check = validator.compile(Type.Object({ limit: Type.Integer({ default: 20 }) }), { location: "query", coerce: true });
 * check({ limit: "5" }); // { ok: true, value: { limit: 5 } }
 */
export class AjvValidator implements Validator {
  private readonly coercing: Ajv;
  private readonly strict: Ajv;

  constructor(options: AjvValidatorOptions = {}) {
    const keywords = [...DEFAULT_KEYWORDS, ...(options.keywords ?? [])];
    this.coercing = createAjv({ coerceTypes: "array" }, keywords);
    this.strict = createAjv({ coerceTypes: false }, keywords);
  }

  /** Registers a shared `$id` schema on both instances; throws `SchemaCompileError` when invalid. */
  addSchema(schema: JsonSchema): void {
    const id = typeof schema.$id === "string" ? schema.$id : "<schema without $id>";
    try {
      this.coercing.addSchema(schema);
      this.strict.addSchema(schema);
    } catch (error) {
      throw new SchemaCompileError(id, errorMessage(error));
    }
  }

  /**
   * Compiles `schema` for one input location. `$ref`s must name schemas already added
   * (ajv resolves them now, not per request).
   */
  compile<T = unknown>(schema: JsonSchema, options: CompileOptions): Check<T> {
    const ajv = options.coerce ? this.coercing : this.strict;
    const validate = compileOrThrow(ajv, schema, options.location);
    const context: IssueContext = { location: options.location, coerce: options.coerce, ajv };
    const direct = (value: unknown): CheckResult<T> =>
      validate(value) ? { ok: true, value: value as T } : { ok: false, issues: mapAjvErrors(validate.errors, value, context) };
    if (!options.coerce) return direct;
    return coercingCheck<T>(ajv, schema, options.location, context, direct);
  }
}

/**
 * ajv coerces in place, by assigning to the parent object's property, so a value at the top level
 * (a bare `"5"` for `{type: "integer"}`, `["a"]` for a string) is converted only inside ajv and the
 * caller never sees it. Objects, the usual case, go straight through; anything else goes through a
 * holder `{ value }` validated against `{ properties: { value: schema } }`, compiled on first use.
 */
function coercingCheck<T>(
  ajv: Ajv,
  schema: JsonSchema,
  location: string,
  context: IssueContext,
  direct: (value: unknown) => CheckResult<T>,
): Check<T> {
  let wrapped: ValidateFunction | undefined;
  const wrappedContext: IssueContext = { ...context, skip: 1 };
  return (value: unknown): CheckResult<T> => {
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return direct(value);
    // No value at all: JSON Schema has no `undefined`; report the whole input as missing.
    if (value === undefined) return { ok: false, issues: [{ loc: [context.location], msg: "Field required", type: "missing", input: null }] };
    wrapped ??= compileOrThrow(ajv, { type: "object", properties: { value: schema }, required: ["value"] }, location);
    const holder = { value };
    return wrapped(holder)
      ? { ok: true, value: holder.value as T }
      : { ok: false, issues: mapAjvErrors(wrapped.errors, holder, wrappedContext) };
  };
}

function createAjv(coercion: Pick<AjvOptions, "coerceTypes">, keywords: string[]): Ajv {
  const ajv = new Ajv({
    ...coercion,
    allErrors: true,
    useDefaults: true,
    ownProperties: true,
    // `verbose` puts the failing value (`data`) and its schema on each error, which the issue
    // mapper needs for `input` and for union messages; it costs nothing on the success path.
    verbose: true,
    strict: false,
    strictSchema: true,
    // NaN and Infinity are not JSON numbers; never accept them as `number`.
    strictNumbers: true,
    logger: false,
  });
  addFormats(ajv);
  ajv.addVocabulary(keywords);
  return ajv;
}

function compileOrThrow(ajv: Ajv, schema: JsonSchema, label: string): ValidateFunction {
  try {
    return ajv.compile(schema);
  } catch (error) {
    const name = typeof schema.$id === "string" ? `${label} (${schema.$id})` : label;
    throw new SchemaCompileError(name, errorMessage(error));
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
