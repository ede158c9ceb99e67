/**
 * Form request bodies: which kind a request sent, and `application/x-www-form-urlencoded` parsing.
 * A form route accepts both kinds, as FastAPI's `Form()` does; files need multipart.
 *
 * - urlencoded: the WHATWG rules (`URLSearchParams`: `&`-separated, `+` is a space, malformed
 *   escapes decode to U+FFFD instead of failing), read whole under `bodyLimit`, then counted
 *   against `maxFields` and `maxFieldSize`;
 * - multipart: streamed (multipart-body.ts);
 * - an empty body, whatever its Content-Type (or none): an empty form, so required fields are
 *   reported missing (422), as an empty JSON body is;
 * - anything else with content (JSON to a form route, say): 415, as a non-JSON body to a JSON
 *   route. FastAPI answers 422 "Field required" there, which hides the actual mistake.
 *
 * @module
 */
import type { Receive, ReceiveEvent } from "../adapter/events.js";
import { UnsupportedMediaTypeError } from "../../lib/errors.js";
import type { FileSpool } from "./file-spool.js";
import type { FormLimits } from "./form-limits.js";
import { formTooLarge, malformedForm } from "./form-errors.js";
import { addField, emptyForm, readMultipartBody, type RawForm } from "./multipart-body.js";
import { boundaryOf } from "./multipart-parser.js";
import { wholeBodyOrRest } from "./request-body.js";

/** The media types a form route accepts, for the 415 message. */
export const FORM_MEDIA_TYPES = "application/x-www-form-urlencoded or multipart/form-data";

/** What {@link readFormBody} needs besides the body. */
export interface FormReadOptions {
  limits: FormLimits;
  bodyLimit: number;
  /** Whether a file part of this name is stored (the schema declares it as a file). */
  storesFile: (name: string) => boolean;
  /** Creates the request's file spool, on the first multipart body (urlencoded ones need none). */
  spool: () => FileSpool;
}

/** The media type of a Content-Type, lower-cased, without parameters. */
function mediaTypeOf(contentType: string): string {
  const semicolon = contentType.indexOf(";");
  return (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
}

/**
 * Reads a form body whose first event the caller already received.
 *
 * @throws UnsupportedMediaTypeError (415) for content of another media type.
 * @throws HttpException 400 (malformed multipart, missing boundary) or 413 (a limit).
 */
export async function readFormBody(
  first: ReceiveEvent,
  receive: Receive,
  contentType: string | undefined,
  options: FormReadOptions,
): Promise<RawForm> {
  const type = contentType === undefined ? "" : mediaTypeOf(contentType);
  if (type === "multipart/form-data") {
    const boundary = boundaryOf(contentType!);
    if (boundary === undefined) throw malformedForm("multipart/form-data without a valid boundary parameter");
    return readMultipartBody(first, receive, { ...options, boundary, spool: options.spool() });
  }
  const whole = wholeBodyOrRest(first, receive, options.bodyLimit);
  const bytes = whole instanceof Promise ? await whole : whole;
  if (bytes.length === 0) return emptyForm();
  if (type !== "application/x-www-form-urlencoded") throw new UnsupportedMediaTypeError(contentType ?? "(none)", FORM_MEDIA_TYPES);
  return parseUrlencoded(bytes, options.limits);
}

/**
 * Parses an urlencoded body (UTF-8; WHATWG URL §5.1). A key without `=` has the value `""`.
 *
 * @throws HttpException 413 past `maxFields` pairs or a value past `maxFieldSize` bytes.
 */
export function parseUrlencoded(bytes: Buffer, limits: Pick<FormLimits, "maxFields" | "maxFieldSize">): RawForm {
  const form = emptyForm();
  let count = 0;
  for (const [name, value] of new URLSearchParams(bytes.toString("utf8"))) {
    if (++count > limits.maxFields) throw formTooLarge(`More than ${limits.maxFields} form fields (maxFields)`);
    // Characters are at most 3 bytes in UTF-8 (4-byte ones are 2 UTF-16 units): count only when it may matter.
    if (value.length * 3 > limits.maxFieldSize && Buffer.byteLength(value) > limits.maxFieldSize) {
      throw formTooLarge(`Form field "${name}" is larger than ${limits.maxFieldSize} bytes (maxFieldSize)`);
    }
    addField(form.fields, name, value);
  }
  return form;
}
