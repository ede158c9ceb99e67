/**
 * The answers a form body gets when it cannot be read: 413 when it passes a limit, 400 when it
 * is malformed. Both close the connection: the rest of the body is never read, so the bytes still
 * on the wire must not be taken for the next request (node's server would otherwise read and
 * discard all of them to keep the connection alive).
 *
 * @module
 */
import { HttpException } from "../../lib/errors.js";
import type { HeaderList } from "../adapter/events.js";

const CLOSE: HeaderList = [["connection", "close"]];

/** 413, naming the limit that was passed (`detail` says which and its value). */
export function formTooLarge(detail: string): HttpException {
  return new HttpException(413, detail, CLOSE.slice());
}

/** 400 for a body that is not a well-formed form. */
export function malformedForm(detail: string): HttpException {
  return new HttpException(400, detail, CLOSE.slice());
}
