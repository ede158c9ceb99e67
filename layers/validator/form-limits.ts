/**
 * The limits (and file storage settings) that bound what a form body may cost the server. Set
 * app-wide (`new App({ formLimits })`) and per route (`formLimits` route option, which wins);
 * the route's `bodyLimit` bounds the whole body on top of them.
 *
 * Passing a limit answers 413 with a detail naming it, and the rest of the body is not read.
 *
 * @module
 */
import { tmpdir } from "node:os";

/** Limits and storage for `form` bodies. */
export interface FormLimits {
  /** Largest file, in bytes. Default: no limit of its own (the body limit still applies). */
  maxFileSize: number;
  /** Most file parts in one body. Default 1000 (Starlette's `max_files`). */
  maxFiles: number;
  /** Most text fields in one body (urlencoded pairs or multipart text parts). Default 1000. */
  maxFields: number;
  /** Largest text field value, in bytes. Default 1 MiB. */
  maxFieldSize: number;
  /** Most header fields in one multipart part (browsers send two or three). Default 16. */
  maxPartHeaderPairs: number;
  /**
   * Bytes of one file kept in memory; past it, the file is written to a temporary file. Default
   * 1 MiB. (Not a rejection limit: it bounds memory, not what is accepted.)
   */
  spoolThreshold: number;
  /** Where per-request temporary directories are made. Default `os.tmpdir()`, read when a route compiles. */
  tempDir: string;
}

/** The defaults; {@link resolveFormLimits} fills what app and route leave unset from them. */
export const DEFAULT_FORM_LIMITS: Readonly<Omit<FormLimits, "tempDir">> = Object.freeze({
  maxFileSize: Number.POSITIVE_INFINITY,
  maxFiles: 1000,
  maxFields: 1000,
  maxFieldSize: 1024 * 1024,
  maxPartHeaderPairs: 16,
  spoolThreshold: 1024 * 1024,
});

/** The limits in force: defaults, overridden by the app's, overridden by the route's (undefined keeps the earlier). */
export function resolveFormLimits(...layers: Array<Partial<FormLimits> | undefined>): FormLimits {
  const limits: FormLimits = { ...DEFAULT_FORM_LIMITS, tempDir: tmpdir() };
  for (const layer of layers) {
    if (layer === undefined) continue;
    for (const key of Object.keys(layer) as Array<keyof FormLimits>) {
      const value = layer[key];
      if (value !== undefined) (limits as unknown as Record<string, unknown>)[key] = value;
    }
  }
  return limits;
}
