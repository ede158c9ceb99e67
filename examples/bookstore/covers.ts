/**
 * Cover images: the bytes in files under a covers directory, what is known about them in the
 * `covers` table.
 *
 * The media type is read from the file's first bytes, never from what the client claims (its
 * part `Content-Type` and file name are untrusted): a text file called `cover.png` is refused with
 * 415. Each upload gets a fresh file name (`<book>-<uuid>.<ext>`), so a file is never rewritten
 * in place: the row is switched to the new file inside the request's transaction, and the old file
 * is removed by a background task, after the response. A reader that picked up the old row just
 * before the switch still finds its file, or, in the worst case, a 404. The rows are the store's
 * (`CoverRepository` in `store/contracts.ts`).
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { open, rm } from "node:fs/promises";
import { join } from "node:path";
import { Type, type Static } from "@sinclair/typebox";
import { HttpException } from "../../lib/errors.js";
import type { UploadFile } from "../../layers/handler/upload-file.js";
import type { StoredCover } from "./store/contracts.js";

/** Largest cover accepted, in bytes (the route's form limit; past it, 413). */
export const MAX_COVER_SIZE = 2 * 1024 * 1024;

/** A cover as the API describes it. */
export const Cover = Type.Object({
  bookId: Type.Integer(),
  mediaType: Type.String(),
  size: Type.Integer(),
  url: Type.String(),
});
export type Cover = Static<typeof Cover>;

/** An image format a cover may have: its media type, file extension and leading bytes. */
interface ImageFormat {
  mediaType: string;
  extension: string;
  matches(head: Uint8Array): boolean;
}

const startsWith = (head: Uint8Array, bytes: readonly number[], at = 0): boolean => bytes.every((byte, i) => head[at + i] === byte);

const FORMATS: readonly ImageFormat[] = [
  { mediaType: "image/png", extension: "png", matches: (h) => startsWith(h, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) },
  { mediaType: "image/jpeg", extension: "jpg", matches: (h) => startsWith(h, [0xff, 0xd8, 0xff]) },
  { mediaType: "image/gif", extension: "gif", matches: (h) => startsWith(h, [0x47, 0x49, 0x46, 0x38]) && (h[4] === 0x37 || h[4] === 0x39) && h[5] === 0x61 },
  // RIFF....WEBP
  { mediaType: "image/webp", extension: "webp", matches: (h) => startsWith(h, [0x52, 0x49, 0x46, 0x46]) && startsWith(h, [0x57, 0x45, 0x42, 0x50], 8) },
];

/** Bytes needed to tell the formats apart. */
const HEAD_SIZE = 12;

/** The image format the leading bytes `head` announce, or undefined when they are none of PNG, JPEG, GIF and WebP. */
export function sniffImage(head: Uint8Array): ImageFormat | undefined {
  return FORMATS.find((format) => format.matches(head));
}

/** The first {@link HEAD_SIZE} bytes of an upload, without reading a spooled file whole. */
async function headOf(file: UploadFile): Promise<Uint8Array> {
  if (file.path === undefined) return (await file.read()).subarray(0, HEAD_SIZE);
  const handle = await open(file.path, "r");
  try {
    const buffer = Buffer.alloc(HEAD_SIZE);
    const { bytesRead } = await handle.read(buffer, 0, HEAD_SIZE, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** The directory cover files live in; provided to DI as a value. */
export class CoverFiles {
  constructor(readonly directory: string) {}

  /** Creates the directory (the lifespan startup calls it). */
  open(): void {
    mkdirSync(this.directory, { recursive: true });
  }

  /** Where the file named `name` (from the `covers` table, never from a client) lives. */
  pathOf(name: string): string {
    return join(this.directory, name);
  }

  /**
   * Checks that `upload` is an image and copies it under a fresh name; resolves with that name
   * and the sniffed media type. Throws 415 for anything that is not PNG, JPEG, GIF or WebP.
   */
  async store(bookId: number, upload: UploadFile): Promise<{ file: string; mediaType: string }> {
    const format = sniffImage(await headOf(upload));
    if (format === undefined) throw new HttpException(415, "A cover must be a PNG, JPEG, GIF or WebP image");
    const file = `${bookId}-${randomUUID()}.${format.extension}`;
    await upload.save(this.pathOf(file));
    return { file, mediaType: format.mediaType };
  }

  /** Removes a cover file; one already gone is not an error. */
  async remove(name: string): Promise<void> {
    await rm(this.pathOf(name), { force: true });
  }
}

/** The API's view of a stored cover. */
export function describeCover(cover: StoredCover): Cover {
  return { bookId: cover.bookId, mediaType: cover.mediaType, size: cover.size, url: `/books/${cover.bookId}/cover` };
}
