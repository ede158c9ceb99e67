/**
 * A test-side `EventSource` stream parser, written from the HTML standard (§9.2.6, "Interpreting an
 * event stream") rather than from laminar's encoder, so the SSE tests check what a browser would
 * see: UTF-8 decoding with a leading BOM dropped, lines split on CRLF, LF and CR (also when a CRLF
 * is split across chunks), comments, the `event`/`data`/`id`/`retry` fields, unknown fields
 * ignored, dispatch on a blank line, and no dispatch for an event without data.
 */

/** A dispatched event, as `EventSource` would hand it to a listener. */
export interface ParsedEvent {
  kind: "event";
  /** `event` field, or `message`. */
  type: string;
  data: string;
  /** The last event ID at dispatch (persists across events, as in the browser). */
  lastEventId: string;
}

/** A comment line (without the leading colon and one optional space). */
export interface ParsedComment {
  kind: "comment";
  text: string;
}

/** What the parser yields, in stream order. */
export type ParsedItem = ParsedEvent | ParsedComment;

/** Incremental parser: feed it text chunks, it returns what they completed. */
export class EventStreamParser {
  /** The reconnection time set by the last valid `retry` field, or null. */
  retry: number | null = null;
  lastEventId = "";
  private buffer = "";
  private sawFirst = false;
  private data = "";
  private type = "";
  /** A chunk ended with CR: a LF at the start of the next one belongs to it. */
  private pendingCR = false;

  /** Parses `chunk` (already decoded text); returns the comments and events it completed. */
  feed(chunk: string): ParsedItem[] {
    if (!this.sawFirst && chunk.length > 0) {
      this.sawFirst = true;
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
    }
    if (this.pendingCR && chunk.startsWith("\n")) chunk = chunk.slice(1);
    this.pendingCR = false;
    this.buffer += chunk;
    const out: ParsedItem[] = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      if (match === null) break;
      // A CR at the very end may be the first half of a CRLF: take the line, skip a following LF.
      if (match[0] === "\r" && match.index === this.buffer.length - 1) this.pendingCR = true;
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      this.line(line, out);
    }
    return out;
  }

  private line(line: string, out: ParsedItem[]): void {
    if (line === "") {
      this.dispatch(out);
      return;
    }
    if (line.startsWith(":")) {
      out.push({ kind: "comment", text: line.slice(1).replace(/^ /, "") });
      return;
    }
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") this.type = value;
    else if (field === "data") this.data += value + "\n";
    else if (field === "id") {
      if (!value.includes("\0")) this.lastEventId = value;
    } else if (field === "retry") {
      if (/^[0-9]+$/.test(value)) this.retry = Number(value);
    }
    // Any other field is ignored.
  }

  private dispatch(out: ParsedItem[]): void {
    if (this.data === "") {
      this.type = "";
      return;
    }
    const data = this.data.endsWith("\n") ? this.data.slice(0, -1) : this.data;
    out.push({ kind: "event", type: this.type === "" ? "message" : this.type, data, lastEventId: this.lastEventId });
    this.data = "";
    this.type = "";
  }
}

/**
 * Reads a response body (an undici `body`, any async iterable of bytes) and yields parsed items as
 * they complete. Breaking out of the loop stops reading; the caller destroys the body to disconnect.
 */
export async function* readEventStream(body: AsyncIterable<Uint8Array>, parser = new EventStreamParser()): AsyncGenerator<ParsedItem> {
  const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  for await (const bytes of body) {
    yield* parser.feed(decoder.decode(bytes, { stream: true }));
  }
  yield* parser.feed(decoder.decode());
}
