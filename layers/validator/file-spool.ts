/**
 * Where the files of one multipart request are kept while it is served: in memory up to a
 * threshold per file, then in a temporary file inside a directory made for the request
 * (Starlette's `SpooledTemporaryFile`, one directory per request so removal is one `rm -r`).
 *
 * Disk writes are queued per file; the reader waits for them ({@link FileSpool.settled}) before it
 * asks the client for more bytes, so a slow disk slows the upload instead of filling memory.
 * {@link FileSpool.remove} closes whatever is open, waits for writes in flight (a write that
 * finished after the removal would leave a file behind) and deletes the directory.
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import { mkdir, open, rm, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { UploadFile } from "../handler/upload-file.js";

/** Prefix of every request's temporary directory (`<tempDir>/laminar-upload-<uuid>`). */
export const SPOOL_DIR_PREFIX = "laminar-upload-";

/** The files of one request. */
export class FileSpool {
  readonly #threshold: number;
  readonly #dir: string;
  #dirReady: Promise<unknown> | undefined;
  readonly #writers: SpoolWriter[] = [];

  /**
   * @param threshold bytes a file may hold in memory; one more and it moves to disk.
   * @param parent the directory temporary directories are made in (`os.tmpdir()` by default).
   */
  constructor(threshold: number, parent: string) {
    this.#threshold = threshold;
    // Named now (the path of a spilled file must be known synchronously), created on first spill.
    this.#dir = join(parent, `${SPOOL_DIR_PREFIX}${randomUUID()}`);
  }

  /** The request's temporary directory (it exists only once a file was spooled to disk). */
  get directory(): string {
    return this.#dir;
  }

  /** Starts a file; write its bytes to the returned writer, then end it. */
  begin(file: UploadFile): SpoolWriter {
    const writer = new SpoolWriter(this, file, this.#threshold, join(this.#dir, String(this.#writers.length)));
    this.#writers.push(writer);
    return writer;
  }

  /** @internal Creates the directory (once; owner-only, as mkdtemp does). */
  ensureDirectory(): Promise<unknown> {
    return (this.#dirReady ??= mkdir(this.#dir, { mode: 0o700 }));
  }

  /**
   * Resolves when every queued write has reached the disk, rejects with the first write error;
   * undefined when nothing is queued (the in-memory case pays no promise).
   */
  settled(): Promise<void> | undefined {
    let waits: Array<Promise<void>> | undefined;
    for (const writer of this.#writers) {
      const busy = writer.busy();
      if (busy !== undefined) (waits ??= []).push(busy);
    }
    if (waits === undefined) return undefined;
    return waits.length === 1 ? waits[0] : Promise.all(waits).then(() => undefined);
  }

  /** Closes every file and deletes the directory. Never rejects; safe to call more than once. */
  async remove(): Promise<void> {
    await Promise.all(this.#writers.map((writer) => writer.close()));
    if (this.#dirReady === undefined) return;
    await this.#dirReady.catch(() => undefined);
    await rm(this.#dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** The bytes of one file on their way to memory or disk. */
export class SpoolWriter {
  readonly file: UploadFile;
  readonly #spool: FileSpool;
  readonly #threshold: number;
  readonly #path: string;
  #queue: Promise<void> | undefined;
  #pending = 0;
  #handle: FileHandle | undefined;
  #closed = false;

  /** @internal See {@link FileSpool.begin}. */
  constructor(spool: FileSpool, file: UploadFile, threshold: number, path: string) {
    this.#spool = spool;
    this.file = file;
    this.#threshold = threshold;
    this.#path = path;
  }

  /** Appends a chunk (kept by reference; the caller must not reuse its memory). */
  write(chunk: Buffer): void {
    if (chunk.length === 0) return;
    const file = this.file;
    if (file.path === undefined) {
      if (file.size + chunk.length <= this.#threshold) {
        file.appendInMemory(chunk);
        return;
      }
      const earlier = file.moveToDisk(this.#path);
      this.#enqueue(async () => {
        await this.#spool.ensureDirectory();
        // `wx`: the name is ours alone; an existing file would mean something else wrote there.
        this.#handle = await open(this.#path, "wx", 0o600);
        for (const piece of earlier) await writeAll(this.#handle, piece);
      });
    }
    file.countOnDisk(chunk.length);
    this.#enqueue(() => writeAll(this.#handle!, chunk));
  }

  /** The file is complete: close it once its writes are done. */
  end(): void {
    if (this.#queue !== undefined) this.#enqueue(() => this.#closeHandle());
  }

  /** The queued writes, while any are pending; rejects with a write error. */
  busy(): Promise<void> | undefined {
    return this.#pending === 0 ? undefined : this.#queue;
  }

  /** Waits for the queue (ignoring its errors) and closes the handle. */
  async close(): Promise<void> {
    if (this.#queue !== undefined) await this.#queue.catch(() => undefined);
    await this.#closeHandle().catch(() => undefined);
  }

  #enqueue(step: () => Promise<void>): void {
    this.#pending++;
    const done = (): void => {
      this.#pending--;
    };
    // After a failure, later steps are skipped: the chain stays rejected with the first error.
    const queue = (this.#queue ?? Promise.resolve()).then(step);
    queue.then(done, done);
    this.#queue = queue;
  }

  async #closeHandle(): Promise<void> {
    if (this.#closed || this.#handle === undefined) return;
    this.#closed = true;
    await this.#handle.close();
  }
}

async function writeAll(handle: FileHandle, chunk: Buffer): Promise<void> {
  let offset = 0;
  while (offset < chunk.length) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset);
    offset += bytesWritten;
  }
}
