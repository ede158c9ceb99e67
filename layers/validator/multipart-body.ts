/**
 * Reads a `multipart/form-data` body from `receive()` into text fields and {@link UploadFile}s,
 * enforcing the form limits as the bytes arrive.
 *
 * The loop pulls one `http.request` event, parses it synchronously, and waits for the disk only
 * when a file is being spooled: the next event is asked for once the previous bytes are stored,
 * so the upload goes at the pace of the disk and memory holds about one chunk per file. A limit
 * or a malformed part throws at once; nothing more is read (the error closes the connection).
 *
 * @module
 */
import type { Receive, ReceiveEvent } from "../adapter/events.js";
import { ClientDisconnectedError, ProtocolError } from "../../lib/errors.js";
import { UploadFile } from "../handler/upload-file.js";
import type { FileSpool, SpoolWriter } from "./file-spool.js";
import type { FormLimits } from "./form-limits.js";
import { formTooLarge, malformedForm } from "./form-errors.js";
import { MultipartParser, type MultipartSink } from "./multipart-parser.js";
import { parseDisposition, parsePartHeaders } from "./part-headers.js";

/** A form as read, before validation. Objects have no prototype and never a `__proto__` key. */
export interface RawForm {
  /** Text fields; a repeated name collects its values into an array, in arrival order. */
  fields: Record<string, string | string[]>;
  /** Stored files by field name, in arrival order. */
  files: Map<string, UploadFile[]>;
  /** File parts that were not stored (the schema does not declare them as files), in arrival order. */
  skippedFiles: Array<{ name: string; filename: string }>;
}

/** What {@link readMultipartBody} needs besides the body. */
export interface MultipartReadOptions {
  boundary: string;
  limits: FormLimits;
  /** Bytes the whole body may have. */
  bodyLimit: number;
  /** Whether a file part of this name is stored; others are read past (and counted) but not kept. */
  storesFile: (name: string) => boolean;
  /** Where stored files go (created by the caller, which removes it after the response). */
  spool: FileSpool;
}

/** An empty form. */
export function emptyForm(): RawForm {
  return { fields: Object.create(null) as Record<string, string | string[]>, files: new Map(), skippedFiles: [] };
}

/** Adds a text value, turning a repeated name into an array. `__proto__` is dropped. */
export function addField(fields: Record<string, string | string[]>, name: string, value: string): void {
  if (name === "__proto__") return;
  const existing = fields[name];
  if (existing === undefined) fields[name] = value;
  else if (typeof existing === "string") fields[name] = [existing, value];
  else existing.push(value);
}

/**
 * Reads the body whose first event the caller already received.
 *
 * @throws HttpException 413 past a limit, 400 for a malformed body.
 * @throws ClientDisconnectedError when the client leaves before the end.
 */
export async function readMultipartBody(first: ReceiveEvent, receive: Receive, options: MultipartReadOptions): Promise<RawForm> {
  const sink = new FormSink(options);
  const parser = new MultipartParser(options.boundary, sink);
  const spool = options.spool;
  let total = 0;
  for (let event = first; ; event = await receive()) {
    if (event.type === "http.request") {
      const body = event.body;
      total += body.byteLength;
      if (total > options.bodyLimit) throw formTooLarge(`Request body larger than ${options.bodyLimit} bytes (bodyLimit)`);
      if (body.byteLength > 0) parser.push(Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength));
      const writing = spool.settled();
      if (writing !== undefined) await writing;
      if (!event.moreBody) break;
    } else if (event.type === "http.disconnect") {
      throw new ClientDisconnectedError("while the form body was being read");
    } else {
      throw new ProtocolError("http.request or http.disconnect", event.type);
    }
  }
  parser.end();
  // Every file is closed before the handler sees it.
  const closing = spool.settled();
  if (closing !== undefined) await closing;
  return sink.form;
}

const TEXT = 0;
const FILE = 1;
const SKIPPED_FILE = 2;

/** Turns parser callbacks into fields and files, counting against the limits. */
class FormSink implements MultipartSink {
  readonly form = emptyForm();
  readonly #options: MultipartReadOptions;
  #fields = 0;
  #files = 0;
  #kind = TEXT;
  #name = "";
  #filename = "";
  #size = 0;
  #text: Buffer[] = [];
  #writer: SpoolWriter | undefined;

  constructor(options: MultipartReadOptions) {
    this.#options = options;
  }

  partBegin(headerBlock: Buffer): void {
    const { limits, storesFile, spool } = this.#options;
    const headers = parsePartHeaders(headerBlock, limits.maxPartHeaderPairs);
    const disposition = headers["content-disposition"] === undefined ? undefined : parseDisposition(headers["content-disposition"]);
    const name = disposition?.params.name;
    if (disposition === undefined || disposition.type !== "form-data" || name === undefined) {
      // RFC 7578 §4.2: every part has `Content-Disposition: form-data; name="…"`.
      throw malformedForm('Malformed multipart part: no `Content-Disposition: form-data; name="…"` header');
    }
    this.#name = name;
    this.#size = 0;
    const filename = disposition.params.filename;
    if (filename === undefined) {
      if (++this.#fields > limits.maxFields) throw formTooLarge(`More than ${limits.maxFields} form fields (maxFields)`);
      this.#kind = TEXT;
      this.#text = [];
      return;
    }
    if (++this.#files > limits.maxFiles) throw formTooLarge(`More than ${limits.maxFiles} files (maxFiles)`);
    this.#filename = filename;
    if (!storesFile(name)) {
      this.#kind = SKIPPED_FILE;
      return;
    }
    this.#kind = FILE;
    const type = headers["content-type"];
    const mediaType = type === undefined ? "" : type.split(";")[0]!.trim().toLowerCase();
    this.#writer = spool.begin(new UploadFile(filename, mediaType === "" ? "application/octet-stream" : mediaType, headers));
  }

  partData(chunk: Buffer): void {
    const size = (this.#size += chunk.length);
    const limits = this.#options.limits;
    if (this.#kind === TEXT) {
      if (size > limits.maxFieldSize) throw formTooLarge(`Form field "${this.#name}" is larger than ${limits.maxFieldSize} bytes (maxFieldSize)`);
      this.#text.push(chunk);
      return;
    }
    if (size > limits.maxFileSize) throw formTooLarge(`File "${this.#name}" is larger than ${limits.maxFileSize} bytes (maxFileSize)`);
    if (this.#kind === FILE) this.#writer!.write(chunk);
  }

  partEnd(): void {
    const form = this.form;
    if (this.#kind === TEXT) {
      const text = this.#text;
      addField(form.fields, this.#name, text.length === 1 ? text[0]!.toString("utf8") : Buffer.concat(text).toString("utf8"));
      this.#text = [];
      return;
    }
    if (this.#kind === SKIPPED_FILE) {
      form.skippedFiles.push({ name: this.#name, filename: this.#filename });
      return;
    }
    const writer = this.#writer!;
    this.#writer = undefined;
    writer.end();
    const file = writer.file;
    // An HTML file input left empty still sends a part: `filename=""` and no content. It means
    // "no file" (so an optional file field is simply absent), as browsers intend it.
    if (file.filename === "" && file.size === 0) return;
    if (this.#name === "__proto__") return;
    const list = form.files.get(this.#name);
    if (list === undefined) form.files.set(this.#name, [file]);
    else list.push(file);
  }
}
