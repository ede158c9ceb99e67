/**
 * The validation and serialization the contenders without a schema layer (bare node:http, bare
 * uWebSockets.js, Hono, Express) do by hand: ajv validators compiled once from the shared schemas
 * (the path id coerced from its string, as every framework does), and the fast-json-stringify
 * serializer for the 201 item. One module, so each of them does exactly the same checks.
 *
 * @module
 */
import { Ajv } from "ajv";
import fastJson from "fast-json-stringify";
import { Item, ItemCreate, ItemParams, ItemQuery } from "./items-schema.js";

const strict = new Ajv({ allErrors: true });
// Path and query arrive as strings: coerced, as laminar, Fastify and FastAPI coerce them.
const coercing = new Ajv({ allErrors: true, coerceTypes: true });

const checkParams = coercing.compile<{ id: number }>(ItemParams);
const checkQuery = coercing.compile<{ q?: string }>(ItemQuery);
const checkItem = strict.compile(ItemCreate);

/** Serializes the 201 item; fields `Item` does not declare are dropped. */
export const serializeItem: (item: unknown) => string = fastJson(Item);

/** A validation outcome: the answer's status and JSON body. */
export interface HandAnswer {
  status: number;
  body: string;
}

let nextId = 1;

/** `GET /items/:id?q=`: 200 with the echo, or 422 with every issue. */
export function itemEcho(id: string | undefined, q: string | undefined): HandAnswer {
  const params = { id };
  const query: { q?: string } = q === undefined ? {} : { q };
  const paramsOk = checkParams(params);
  const queryOk = checkQuery(query);
  if (!paramsOk || !queryOk) {
    return { status: 422, body: JSON.stringify({ detail: [...(checkParams.errors ?? []), ...(checkQuery.errors ?? [])] }) };
  }
  return { status: 200, body: JSON.stringify({ id: (params as unknown as { id: number }).id, q: query.q ?? null }) };
}

/** `POST /items` from the raw body bytes: 201 with the serialized item, or 422. */
export function createItem(raw: Buffer | string): HandAnswer {
  let value: unknown;
  try {
    value = JSON.parse(typeof raw === "string" ? raw : raw.toString("utf8"));
  } catch {
    return { status: 422, body: '{"detail":"JSON decode error"}' };
  }
  return createParsedItem(value);
}

/** `POST /items` from an already parsed body (Express's and Hono's parsers): 201 or 422. */
export function createParsedItem(value: unknown): HandAnswer {
  if (!checkItem(value)) return { status: 422, body: JSON.stringify({ detail: checkItem.errors }) };
  return { status: 201, body: serializeItem({ ...(value as object), id: nextId++ }) };
}
