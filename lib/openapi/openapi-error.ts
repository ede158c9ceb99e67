/**
 * The one error the OpenAPI generator raises: the routes cannot be described by a valid document
 * (two operations with one operation ID, two schemas with one `$id`, a `$ref` to no `$id`, one
 * security scheme name defined two ways). Raised when the document is generated (the first
 * request for it, `app.openapi()` or `laminar openapi`), with the routes involved in the message.
 *
 * @module
 */
import { LaminarError } from "../errors.js";

/** The routes cannot be described by a valid OpenAPI document; the message names what collides. */
export class OpenApiError extends LaminarError {
  constructor(message: string) {
    super("LMR_ERR_OPENAPI", message, 500);
  }
}
