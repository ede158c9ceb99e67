/**
 * The 422 body laminar sends when a request fails validation, as OpenAPI components, named as
 * FastAPI names them so that generated clients look alike: `HTTPValidationError` is
 * `{ detail: ValidationError[] }`, and a `ValidationError` is one `ValidationIssue`
 * (lib/errors.ts): `loc`, `msg`, `type`, and the optional `input` and `ctx`.
 *
 * @module
 */
import type { JsonSchema } from "../../layers/validator/validator.js";
import { componentRef } from "./schema-components.js";

/** Component name of the 422 body. */
export const HTTP_VALIDATION_ERROR = "HTTPValidationError";
/** Component name of one issue in it. */
export const VALIDATION_ERROR = "ValidationError";

/** One validation issue (`ValidationIssue`). */
export const validationErrorSchema: JsonSchema = {
  type: "object",
  title: VALIDATION_ERROR,
  required: ["loc", "msg", "type"],
  properties: {
    loc: { type: "array", title: "Location", items: { anyOf: [{ type: "string" }, { type: "integer" }] } },
    msg: { type: "string", title: "Message" },
    type: { type: "string", title: "Error Type" },
    input: { title: "Input" },
    ctx: { type: "object", title: "Context" },
  },
};

/** The whole 422 body. */
export const httpValidationErrorSchema: JsonSchema = {
  type: "object",
  title: HTTP_VALIDATION_ERROR,
  // FastAPI leaves it optional; laminar always sends it.
  required: ["detail"],
  properties: {
    detail: { type: "array", title: "Detail", items: { $ref: componentRef(VALIDATION_ERROR) } },
  },
};
