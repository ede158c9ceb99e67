/**
 * A push parser for the structure of a `multipart/form-data` body (RFC 2046 §5.1.1, RFC 7578):
 * it finds the boundaries and the header blocks and hands each part's bytes to a sink as they
 * arrive, so no part is ever held whole by the parser. What the parts mean (fields, files, limits)
 * is the sink's business (see multipart-body.ts).
 *
 * Written here rather than taken from busboy because laminar needs what busboy 1.x does not give:
 * each part's headers (`UploadFile.headers`), a configurable cap on part header fields (busboy's is
 * fixed at 2000 and silently drops the rest), errors instead of silent truncation at a limit, and
 * a synchronous `push` that fits the pull-based `receive()` loop (busboy is a Writable whose file
 * streams must be drained in step).
 *
 * @module
 */
import { formTooLarge, malformedForm } from "./form-errors.js";

/** Receives the parts of a body, in order; may throw to stop the parse. */
export interface MultipartSink {
  /** A part starts; `headerBlock` is its header lines (CRLF-separated, no final blank line). */
  partBegin(headerBlock: Buffer): void;
  /** Bytes of the current part's content (a view of the pushed chunk: keep it, do not copy it). */
  partData(chunk: Buffer): void;
  /** The current part's content is complete. */
  partEnd(): void;
}

/** Largest header block of one part (node's, and busboy's, limit for a header section). */
export const MAX_PART_HEADER_BYTES = 16 * 1024;

// RFC 2046 §5.1.1: bchars, 1 to 70 of them, not ending in a space.
const BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;

/**
 * The boundary of a `multipart/form-data` Content-Type, or undefined when it has none or an
 * invalid one (the caller answers 400).
 */
export function boundaryOf(contentType: string): string | undefined {
  const match = /;\s*boundary\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(contentType);
  if (match === null) return undefined;
  const boundary = match[1] ?? match[2] ?? "";
  return BOUNDARY.test(boundary) ? boundary : undefined;
}

const PREAMBLE = 0;
const AFTER_DELIMITER = 1;
const PADDING = 2;
const HEADERS = 3;
const CONTENT = 4;
const DONE = 5;

const CR = 13;
const LF = 10;
const DASH = 45;
const HEADER_END = Buffer.from("\r\n\r\n");
const MAX_PADDING = 256;

/**
 * The parser. Feed it with {@link push}, then call {@link end}.
 *
 * @example
 * const parser = new MultipartParser(boundaryOf(contentType)!, sink);
 * for (const chunk of chunks) parser.push(chunk);
 * parser.end(); // throws 400 if the closing boundary never came
 */
export class MultipartParser {
  readonly #delimiter: Buffer;
  readonly #sink: MultipartSink;
  #state = PREAMBLE;
  /** Bytes held back from the previous chunk: a possible delimiter start, or an unfinished header block. */
  #carry: Buffer | undefined;
  #padding = 0;

  constructor(boundary: string, sink: MultipartSink) {
    this.#delimiter = Buffer.from(`\r\n--${boundary}`, "latin1");
    this.#sink = sink;
    // The first boundary may open the body, without the CRLF that precedes the others.
    this.#carry = Buffer.from("\r\n");
  }

  /** True once the closing boundary (`--boundary--`) was seen; later bytes (the epilogue) are ignored. */
  get done(): boolean {
    return this.#state === DONE;
  }

  /** Parses a chunk; calls the sink synchronously. Throws what the sink throws, or 400/413. */
  push(chunk: Buffer): void {
    if (this.#state === DONE || chunk.length === 0) return;
    const carry = this.#carry;
    const buf = carry === undefined ? chunk : Buffer.concat([carry, chunk]);
    this.#carry = undefined;
    const length = buf.length;
    const delimiter = this.#delimiter;
    let pos = 0;
    while (pos < length) {
      switch (this.#state) {
        case PREAMBLE:
        case CONTENT: {
          const inContent = this.#state === CONTENT;
          const found = buf.indexOf(delimiter, pos);
          if (found !== -1) {
            if (inContent) {
              if (found > pos) this.#sink.partData(buf.subarray(pos, found));
              this.#sink.partEnd();
            }
            pos = found + delimiter.length;
            this.#state = AFTER_DELIMITER;
            break;
          }
          // No whole delimiter: everything but a possible start of one at the end is content.
          const keep = partialDelimiterStart(buf, pos, delimiter);
          if (inContent && keep > pos) this.#sink.partData(buf.subarray(pos, keep));
          if (keep < length) this.#carry = Buffer.from(buf.subarray(keep));
          return;
        }
        case AFTER_DELIMITER: {
          if (length - pos < 2) {
            this.#carry = Buffer.from(buf.subarray(pos));
            return;
          }
          if (buf[pos] === DASH && buf[pos + 1] === DASH) {
            this.#state = DONE;
            return;
          }
          this.#padding = 0;
          this.#state = PADDING;
          break;
        }
        case PADDING: {
          // Transport padding (RFC 2046 §5.1.1: LWSP after the boundary), then CRLF.
          while (pos < length && (buf[pos] === 32 || buf[pos] === 9)) {
            pos++;
            if (++this.#padding > MAX_PADDING) throw malformedForm("Malformed multipart body: boundary line too long");
          }
          if (pos === length) return;
          if (buf[pos] !== CR) throw malformedForm("Malformed multipart body: expected CRLF after the boundary");
          if (length - pos < 2) {
            this.#carry = Buffer.from(buf.subarray(pos));
            return;
          }
          if (buf[pos + 1] !== LF) throw malformedForm("Malformed multipart body: expected CRLF after the boundary");
          // The CRLF stays: with the blank line it makes the CRLFCRLF that ends even an empty block.
          this.#state = HEADERS;
          break;
        }
        case HEADERS: {
          const end = buf.indexOf(HEADER_END, pos);
          if (end === -1) {
            if (length - pos > MAX_PART_HEADER_BYTES) throw partHeaderTooLarge();
            this.#carry = Buffer.from(buf.subarray(pos));
            return;
          }
          if (end - pos > MAX_PART_HEADER_BYTES) throw partHeaderTooLarge();
          this.#state = CONTENT;
          this.#sink.partBegin(buf.subarray(Math.min(pos + 2, end), end));
          pos = end + HEADER_END.length;
          break;
        }
        default:
          return;
      }
    }
  }

  /** The body is over. @throws HttpException 400 when it ended before the closing boundary. */
  end(): void {
    if (this.#state === DONE) return;
    throw malformedForm(
      this.#state === PREAMBLE ? "Malformed multipart body: no boundary found" : "Malformed multipart body: it ended before the closing boundary",
    );
  }
}

function partHeaderTooLarge(): Error {
  return formTooLarge(`A multipart part's headers are larger than ${MAX_PART_HEADER_BYTES} bytes`);
}

/**
 * Where a suffix of `buf[from..]` that could begin the delimiter starts (`buf.length` when none
 * does). The delimiter starts with CR and a boundary has no CR, so only a CR can start it.
 */
function partialDelimiterStart(buf: Buffer, from: number, delimiter: Buffer): number {
  const length = buf.length;
  let candidate = buf.indexOf(CR, Math.max(from, length - delimiter.length + 1));
  while (candidate !== -1) {
    if (buf.compare(delimiter, 0, length - candidate, candidate, length) === 0) return candidate;
    candidate = buf.indexOf(CR, candidate + 1);
  }
  return length;
}
