/**
 * A file received in a `multipart/form-data` body (FastAPI's / Starlette's `UploadFile`), and the
 * schema that declares one in a route's `form`.
 *
 * The bytes live in memory up to the route's `spoolThreshold`, past it in a temporary file
 * (`path`) inside a directory made for the request. Either way they are gone once the response
 * has been sent (and the request's background tasks have run): read, stream or `save()` them in
 * the handler or a background task, not later.
 *
 * `filename` is what the client wrote in the part's `Content-Disposition`, as sent (`../x`,
 * `C:\x`, `résumé.pdf`…): metadata to show or sanitize, never a path laminar uses. The
 * temporary file is named by laminar.
 *
 * @example
 * app.post("/avatar", { form: Type.Object({ user: Type.String(), avatar: UploadFileSchema() }) }, async ({ form }) => {
 *   const bytes = await form.avatar.read();
 *   return { user: form.user, name: form.avatar.filename, size: form.avatar.size };
 * });
 *
 * @module
 */
import { createReadStream } from "node:fs";
import { copyFile, readFile, writeFile } from "node:fs/promises";
import { Readable } from "node:stream";
import { Type, type TUnsafe } from "@sinclair/typebox";
import type { JsonSchema } from "../validator/validator.js";

/** One uploaded file. Created by the multipart reader; handlers receive it in `ctx.form`. */
export class UploadFile {
  /** The client's file name (untrusted; `""` when the part said `filename=""`). */
  readonly filename: string;
  /** The part's media type, without parameters; `application/octet-stream` when it sent none. */
  readonly contentType: string;
  /** The part's headers, names lower-cased (a repeated header's values joined with `, `). */
  readonly headers: Readonly<Record<string, string>>;
  #size = 0;
  #chunks: Buffer[] | undefined = [];
  #path: string | undefined;

  /** @internal Created by the multipart reader. */
  constructor(filename: string, contentType: string, headers: Readonly<Record<string, string>>) {
    this.filename = filename;
    this.contentType = contentType;
    this.headers = headers;
  }

  /** Size in bytes. */
  get size(): number {
    return this.#size;
  }

  /** The temporary file holding the bytes, when they were spooled to disk; undefined while in memory. */
  get path(): string | undefined {
    return this.#path;
  }

  /** The whole content. */
  read(): Promise<Buffer> {
    if (this.#path !== undefined) return readFile(this.#path);
    return Promise.resolve(this.memory());
  }

  /** The content decoded as text (UTF-8 unless told otherwise). */
  async text(encoding: BufferEncoding = "utf8"): Promise<string> {
    return (await this.read()).toString(encoding);
  }

  /** The content as a stream (from disk when spooled, without loading it all). */
  stream(): Readable {
    if (this.#path !== undefined) return createReadStream(this.#path);
    return Readable.from([this.memory()], { objectMode: false });
  }

  /**
   * Copies the content to `destination` (a path the application chose; never derive it from
   * `filename` without sanitizing). The temporary file itself is removed after the response.
   */
  async save(destination: string): Promise<void> {
    if (this.#path !== undefined) await copyFile(this.#path, destination);
    else await writeFile(destination, this.memory());
  }

  /** Metadata only (how a file appears as the `input` of a validation issue, or in a log). */
  toJSON(): { filename: string; contentType: string; size: number } {
    return { filename: this.filename, contentType: this.contentType, size: this.#size };
  }

  private memory(): Buffer {
    const chunks = this.#chunks ?? [];
    if (chunks.length !== 1) this.#chunks = chunks.length === 0 ? [] : [Buffer.concat(chunks, this.#size)];
    return this.#chunks![0] ?? Buffer.alloc(0);
  }

  /** @internal The reader appends while the bytes stay in memory. */
  appendInMemory(chunk: Buffer): void {
    this.#chunks!.push(chunk);
    this.#size += chunk.length;
  }

  /** @internal The reader counts bytes written to disk. */
  countOnDisk(length: number): void {
    this.#size += length;
  }

  /** @internal Hands the in-memory chunks over to be written to `path`. */
  moveToDisk(path: string): Buffer[] {
    const chunks = this.#chunks ?? [];
    this.#chunks = undefined;
    this.#path = path;
    return chunks;
  }
}

/** Options for {@link UploadFileSchema}: annotations for the OpenAPI document. */
export interface UploadFileSchemaOptions {
  description?: string;
  title?: string;
}

/**
 * Declares a file field of a route's `form`: `ctx.form.<name>` is an {@link UploadFile}
 * (`Type.Array(UploadFileSchema())` for several files under one name, `Type.Optional(…)` when it
 * may be left out). The JSON Schema is `{ type: "string", format: "binary" }`, what OpenAPI
 * documents a file as (3.0; the 3.1 document rewrites it to `contentMediaType`).
 *
 * A plain JSON Schema form field with `format: "binary"` (or a `contentMediaType`) is a file too;
 * this helper only adds the static type.
 */
export function UploadFileSchema(options: UploadFileSchemaOptions = {}): TUnsafe<UploadFile> {
  return Type.Unsafe<UploadFile>({ ...options, type: "string", format: "binary" });
}

/**
 * Whether a form field's schema declares a file: `format: "binary"`, or a `contentMediaType`
 * without a `contentEncoding` (OpenAPI 3.1's way to say raw bytes; base64 text has an encoding).
 */
export function isFileSchema(schema: JsonSchema): boolean {
  if (schema.format === "binary") return true;
  return typeof schema.contentMediaType === "string" && schema.contentEncoding === undefined;
}
