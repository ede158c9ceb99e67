/**
 * What the worker knows about one delivery between `reserve()` and its settled outcome. Shared by
 * the worker's loop (which renews, aborts and counts them) and {@link Outcomes} (which settles them).
 *
 * @module
 */
import type { Delivery } from "../broker.js";

/** A delivery the worker holds. Mutable: its phase moves from reserved to waiting to running. */
export interface HeldDelivery {
  readonly delivery: Delivery;
  /** The lease is still ours to ack, release or dead-letter (and the renewal loop extends it). */
  leased: boolean;
  /** An extend returned false: someone else may hold it now; it is not extended any more. */
  lost: boolean;
  /** Waiting for a rate-limit token. */
  waiting: boolean;
  running: boolean;
  /** Epoch ms when it started running. */
  startedAt: number;
  /** Aborts the execution (revoke with terminate, shutdown past the graceful timeout). */
  control?: AbortController;
  /** Aborts a rate-limit wait (stop, revoke). */
  waitAbort?: AbortController;
  /** Why `control` was aborted. */
  stopReason?: "terminate" | "shutdown";
}
