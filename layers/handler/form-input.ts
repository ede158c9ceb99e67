/**
 * A route's `form` input, compiled once: the schema split into text fields (validated by the
 * validator, with coercion, as query parameters are) and file fields (checked here: present,
 * single or a list within its `minItems`/`maxItems`), the body read, and the validated values
 * stored as `ctx.form`. Issues come out as the JSON body's do: `loc: ["body", field, …]`, in the
 * order the schema declares the fields.
 *
 * Temporary files are removed after the response: {@link withFormCleanup} wraps the compiled
 * route, and when it returns (the response sent, a streamed file included) hands the removal to
 * the error layer's after-response work, which runs it after the background tasks and dependency
 * cleanups registered during the request, and equally after a 422, a 413, an abort or a throw.
 *
 * @module
 */
import type { App, HttpScope, Receive, Send } from "../adapter/events.js";
import { RouteDefinitionError, type ValidationIssue } from "../../lib/errors.js";
import type { Check, JsonSchema, Validator } from "../validator/validator.js";
import type { SchemaLike } from "../validator/schema-types.js";
import type { FormLimits } from "../validator/form-limits.js";
import { FileSpool } from "../validator/file-spool.js";
import { readFormBody } from "../validator/form-body.js";
import type { RawForm } from "../validator/multipart-body.js";
import { deferAfterResponse } from "../middleware/after-response.js";
import { isFileSchema, type UploadFile } from "./upload-file.js";
import type { RequestContext } from "./request-context.js";

/** Reads, validates and stores `ctx.form`; returns `issues` with the form's own appended. */
export type FormInput = (ctx: RequestContext, issues: ValidationIssue[] | undefined) => Promise<ValidationIssue[] | undefined>;

interface FileField {
  name: string;
  list: boolean;
  required: boolean;
  minItems: number;
  maxItems: number;
}

const SPOOL_KEY = "laminar.formSpool";

/**
 * Compiles a form schema. It must be an object schema with `properties` (the fields are what a
 * form has); throws `RouteDefinitionError` otherwise.
 */
export function compileFormInput(schema: SchemaLike, validator: Validator, limits: FormLimits, bodyLimit: number, label: string): FormInput {
  const form = schema as JsonSchema;
  const properties = form.properties as Record<string, JsonSchema> | undefined;
  if (form.type !== "object" || typeof properties !== "object" || properties === null) {
    throw new RouteDefinitionError(label, "`form` must be an object schema with `properties` (one per form field)");
  }
  const required = new Set(Array.isArray(form.required) ? (form.required as string[]) : []);
  const fileFields: FileField[] = [];
  const textProperties: Record<string, JsonSchema> = {};
  for (const [name, field] of Object.entries(properties)) {
    const items = field.items as JsonSchema | undefined;
    const list = field.type === "array" && typeof items === "object" && items !== null && !Array.isArray(items) && isFileSchema(items);
    if (list || isFileSchema(field)) {
      fileFields.push({
        name,
        list,
        required: required.has(name),
        minItems: typeof field.minItems === "number" ? field.minItems : 0,
        maxItems: typeof field.maxItems === "number" ? field.maxItems : Number.POSITIVE_INFINITY,
      });
    } else {
      textProperties[name] = field;
    }
  }
  const fileNames = new Set(fileFields.map((field) => field.name));
  const textSchema: JsonSchema = fileFields.length === 0 ? form : { ...form, properties: textProperties };
  if (fileFields.length > 0 && Array.isArray(form.required)) textSchema.required = (form.required as string[]).filter((name) => !fileNames.has(name));
  const checkText: Check = validator.compile(textSchema, { location: "body", coerce: true });
  const order = Object.keys(properties);
  const extrasForbidden = form.additionalProperties === false;
  const readOptions = { limits, bodyLimit, storesFile: (name: string) => fileNames.has(name) };

  return async (ctx, issues) => {
    const scope = ctx.scope;
    const raw = await readFormBody(await ctx.receive(), ctx.receive, ctx.contentType(), {
      ...readOptions,
      spool: () => spoolFor(scope, limits),
    });
    const found: ValidationIssue[] = [];
    const fields = raw.fields;
    for (const field of fileFields) {
      const text = fields[field.name];
      if (text !== undefined) {
        delete fields[field.name];
        // Reported once: text sent for a file field (and so not "missing" as well).
        if (!raw.files.has(field.name)) {
          found.push({ loc: ["body", field.name], msg: "Value error, Expected UploadFile, received a text field", type: "value_error", input: text });
          raw.files.set(field.name, []);
        }
      }
    }
    // An empty text value counts as not sent (an HTML form's unfilled input), as in FastAPI.
    for (const name of Object.keys(fields)) if (fields[name] === "") delete fields[name];
    for (const file of raw.skippedFiles) {
      if (Object.hasOwn(properties, file.name)) {
        // A file where text is declared: the text check reports it with the field's own type error.
        if (fields[file.name] === undefined) (fields as Record<string, unknown>)[file.name] = { filename: file.filename };
      } else if (extrasForbidden) {
        found.push({ loc: ["body", file.name], msg: "Extra inputs are not permitted", type: "extra_forbidden", input: { filename: file.filename } });
      }
      // Otherwise an undeclared file: dropped, as undeclared fields are ignored.
    }
    const result = checkText(fields);
    if (result.ok) {
      const values = result.value as Record<string, unknown>;
      fileIssues(fileFields, raw, values, found);
      if (found.length === 0) (ctx as { form: unknown }).form = values;
    } else {
      for (const issue of result.issues) found.push(issue.type === "missing" ? { ...issue, input: null } : issue);
      fileIssues(fileFields, raw, undefined, found);
    }
    if (found.length === 0) return issues;
    sortByField(found, order);
    (issues ??= []).push(...found);
    return issues;
  };
}

/** Checks the declared file fields; stores them into `values` (when given). */
function fileIssues(fileFields: readonly FileField[], raw: RawForm, values: Record<string, unknown> | undefined, found: ValidationIssue[]): void {
  for (const field of fileFields) {
    const files = raw.files.get(field.name);
    const loc = ["body", field.name];
    if (files === undefined) {
      if (field.required) found.push({ loc, msg: "Field required", type: "missing", input: null });
      continue;
    }
    if (files.length === 0) continue; // text where the file belongs: already reported
    if (!field.list) {
      if (files.length > 1) found.push({ loc, msg: `Expected one file, received ${files.length}`, type: "value_error", input: files });
      else if (values !== undefined) values[field.name] = files[0];
      continue;
    }
    if (files.length < field.minItems) found.push(sizeIssue(loc, "at least", field.minItems, files));
    else if (files.length > field.maxItems) found.push(sizeIssue(loc, "at most", field.maxItems, files));
    else if (values !== undefined) values[field.name] = files;
  }
}

/** pydantic's list-length issue. */
function sizeIssue(loc: Array<string | number>, bound: "at least" | "at most", limit: number, files: UploadFile[]): ValidationIssue {
  const min = bound === "at least";
  return {
    loc,
    msg: `List should have ${bound} ${limit} item${limit === 1 ? "" : "s"} after validation, not ${files.length}`,
    type: min ? "too_short" : "too_long",
    input: files,
    ctx: min
      ? { field_type: "List", min_length: limit, actual_length: files.length }
      : { field_type: "List", max_length: limit, actual_length: files.length },
  };
}

/** Stable sort by the field's position in the schema; undeclared fields last. */
function sortByField(issues: ValidationIssue[], order: readonly string[]): void {
  const rank = (issue: ValidationIssue): number => {
    const index = order.indexOf(String(issue.loc[1]));
    return index === -1 ? order.length : index;
  };
  issues.sort((a, b) => rank(a) - rank(b));
}

/** The request's spool, created and recorded on the scope for {@link withFormCleanup}. */
function spoolFor(scope: HttpScope, limits: FormLimits): FileSpool {
  const spool = new FileSpool(limits.spoolThreshold, limits.tempDir);
  (scope.extensions ??= {})[SPOOL_KEY] = spool;
  return spool;
}

/**
 * Wraps a form route so that its request's temporary files are removed once it has returned,
 * i.e. after its response was sent or its error thrown: the removal is deferred to the error
 * layer's after-response work, so it also follows the error response and any background task.
 */
export function withFormCleanup(route: (scope: HttpScope, receive: Receive, send: Send) => Promise<void>): App {
  return async function formRoute(scope, receive, send) {
    const http = scope as HttpScope;
    try {
      await route(http, receive, send);
    } finally {
      const spool = http.extensions?.[SPOOL_KEY] as FileSpool | undefined;
      if (spool !== undefined) {
        delete http.extensions![SPOOL_KEY];
        deferAfterResponse(http, () => spool.remove());
      }
    }
  } as App;
}
