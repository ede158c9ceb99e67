/**
 * The schemas every benchmark server uses, so that each does the same work: the `GET /items/:id`
 * path and query, the `POST /items` body (`ItemCreate`) and its 201 response (`Item`, which drops
 * fields it does not declare). The bare servers, Hono and Express compile them with ajv by hand;
 * laminar and Fastify compile them through their own validators (ajv too); FastAPI declares the
 * same constraints as pydantic models (`fastapi_app.py`).
 *
 * @module
 */
import { Type } from "@sinclair/typebox";

/** `POST /items` body. */
export const ItemCreate = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 100 }),
  price: Type.Number({ minimum: 0 }),
  tags: Type.Array(Type.String(), { maxItems: 10 }),
});

/** `POST /items` 201 response: unknown fields never leave the server. */
export const Item = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  price: Type.Number(),
  tags: Type.Array(Type.String()),
});

/** `GET /items/:id` path: the id is an integer (strings coerced). */
export const ItemParams = Type.Object({ id: Type.Integer() });

/** `GET /items/:id` query: `q` is an optional string. */
export const ItemQuery = Type.Object({ q: Type.Optional(Type.String()) });
