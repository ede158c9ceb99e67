/**
 * The per-request input helpers the pipeline calls before validation: query, headers, cookies,
 * body bytes and JSON. Each lives in its own module; this one gathers them.
 *
 * @module
 */
export { parseQuery, MAX_QUERY_PAIRS } from "./query-string.js";
export { headersToObject, parseCookies } from "./request-headers.js";
export { readBody, wholeBodyOrRest } from "./request-body.js";
export { parseJsonBody, isJsonContentType } from "./json-body.js";
