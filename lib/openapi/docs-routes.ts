/**
 * The routes that serve the document and the documentation pages: `/openapi.json`, Swagger UI at
 * `/docs` (with `/docs/oauth2-redirect` for the Authorize button's OAuth2 flows) and ReDoc at
 * `/redoc`, each path configurable or off (`null`), as FastAPI's `openapi_url`, `docs_url` and
 * `redoc_url`. The pages need the document, so they are off when `openapiUrl` is. Their assets are
 * served by the app itself, under the page's path (`/docs/swagger-ui-bundle.js`,
 * `/redoc/redoc.standalone.js`), from the npm packages (docs-assets.ts).
 *
 * The routes are ordinary routes (they pass through the app's middleware: CORS, compression) that
 * are not in the document themselves. They answer under a mount prefix too: every URL in the pages
 * starts with the request's `rootPath`, and the document then lists the prefix as its first server
 * (FastAPI's `root_path_in_servers`), so "Try it out" calls the mounted paths.
 *
 * @module
 */
import type { RouteDeclaration, RouteOptions, Handler } from "../../layers/handler/route-definition.js";
import { HTMLResponse, Response } from "../../layers/handler/responses.js";
import { FileResponse } from "../../layers/handler/file-response.js";
import type { OpenApiDocument, OpenApiMetadata } from "./openapi-types.js";
import { OAUTH2_REDIRECT_PAGE, REDOC_ASSETS, SWAGGER_UI_ASSETS, assetPath, type DocsAsset } from "./docs-assets.js";
import { SWAGGER_UI_INIT_JS, redocHtml, swaggerUiHtml } from "./docs-html.js";

/** The App options that place (or turn off) the document and the pages, with the document's metadata. */
export interface OpenApiAppOptions extends OpenApiMetadata {
  /** Where the document is served; default `"/openapi.json"`; `null` turns it and both pages off. */
  openapiUrl?: string | null;
  /** Swagger UI; default `"/docs"`; `null` turns it off. */
  docsUrl?: string | null;
  /** ReDoc; default `"/redoc"`; `null` turns it off. */
  redocUrl?: string | null;
}

/** The name of Swagger UI's init script under the docs URL. */
export const SWAGGER_UI_INIT_NAME = "swagger-ui-init.js";

/** Assets change only when the packages are upgraded; the ETag revalidates after that. */
const ASSET_CACHE_CONTROL = "public, max-age=3600";
/**
 * The ReDoc page's Content-Security-Policy: its bundle always shows Redocly's logo from
 * cdn.redoc.ly in the sidebar (redoc 2.5, no option turns it off); the policy keeps that request
 * from leaving (the image then hides itself). Styles are inline (styled-components) and search runs
 * in a blob: worker. Swagger UI gets no such policy: "Try it out" must reach the document's servers.
 */
export const REDOC_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; worker-src 'self' blob:; script-src 'self'";

/** A bound on the cached document texts (one per distinct root path: mounts, `--root-path`). */
const MAX_CACHED_ROOT_PATHS = 16;

function checkUrl(name: string, url: string): string {
  if (!url.startsWith("/")) throw new TypeError(`${name} must start with "/": got ${JSON.stringify(url)}`);
  return url;
}

/** `/docs` → `/docs/name`; `/` → `/name`. */
function under(base: string, name: string): string {
  return `${base.endsWith("/") ? base.slice(0, -1) : base}/${name}`;
}

function route(path: string, handler: (rootPath: string) => unknown): RouteDeclaration {
  const options: RouteOptions = { includeInSchema: false };
  return { methods: ["GET"], path, options, handler: (({ scope }) => handler(scope.rootPath)) as Handler<RouteOptions> };
}

function assetRoute(base: string, asset: DocsAsset): RouteDeclaration {
  return route(under(base, asset.name), () => new FileResponse(assetPath(asset), { headers: { "cache-control": ASSET_CACHE_CONTROL } }));
}

/** The document as served under `rootPath`: the prefix as first server, as FastAPI does. */
function servedDocument(document: OpenApiDocument, rootPath: string): OpenApiDocument {
  if (rootPath === "" || (document.servers ?? []).some((server) => server.url === rootPath)) return document;
  return { ...document, servers: [{ url: rootPath }, ...(document.servers ?? [])] };
}

/**
 * The route declarations for `options`. `document` is called at the first request for the
 * document (then its text is cached), so building the app does no OpenAPI work, and a document
 * that cannot be generated fails that request (500, logged) rather than the app.
 */
export function docsRoutes(options: OpenApiAppOptions, document: () => OpenApiDocument): RouteDeclaration[] {
  const openapiUrl = options.openapiUrl === undefined ? "/openapi.json" : options.openapiUrl;
  if (openapiUrl === null) return [];
  checkUrl("openapiUrl", openapiUrl);
  const title = options.title ?? "laminar";
  const texts = new Map<string, string>();
  const documentText = (rootPath: string): string => {
    let text = texts.get(rootPath);
    if (text === undefined) {
      text = JSON.stringify(servedDocument(document(), rootPath));
      if (texts.size < MAX_CACHED_ROOT_PATHS) texts.set(rootPath, text);
    }
    return text;
  };
  const routes = [route(openapiUrl, (rootPath) => new Response(documentText(rootPath), {}, "application/json"))];

  const docsUrl = options.docsUrl === undefined ? "/docs" : options.docsUrl;
  if (docsUrl !== null) {
    checkUrl("docsUrl", docsUrl);
    routes.push(
      route(docsUrl, (rootPath) =>
        new HTMLResponse(
          swaggerUiHtml(`${title} - Swagger UI`, {
            openapi: rootPath + openapiUrl,
            css: rootPath + under(docsUrl, "swagger-ui.css"),
            favicon: rootPath + under(docsUrl, "favicon-32x32.png"),
            bundle: rootPath + under(docsUrl, "swagger-ui-bundle.js"),
            init: rootPath + under(docsUrl, SWAGGER_UI_INIT_NAME),
            oauth2Redirect: rootPath + under(docsUrl, OAUTH2_REDIRECT_PAGE.name),
          }),
        ),
      ),
      route(under(docsUrl, SWAGGER_UI_INIT_NAME), () =>
        new Response(SWAGGER_UI_INIT_JS, { headers: { "cache-control": ASSET_CACHE_CONTROL } }, "text/javascript; charset=utf-8"),
      ),
      assetRoute(docsUrl, OAUTH2_REDIRECT_PAGE),
      ...SWAGGER_UI_ASSETS.map((asset) => assetRoute(docsUrl, asset)),
    );
  }

  const redocUrl = options.redocUrl === undefined ? "/redoc" : options.redocUrl;
  if (redocUrl !== null) {
    checkUrl("redocUrl", redocUrl);
    routes.push(
      route(redocUrl, (rootPath) =>
        new HTMLResponse(redocHtml(`${title} - ReDoc`, { openapi: rootPath + openapiUrl, bundle: rootPath + under(redocUrl, REDOC_ASSETS[0]!.name) }), {
          headers: { "content-security-policy": REDOC_CSP },
        }),
      ),
      ...REDOC_ASSETS.map((asset) => assetRoute(redocUrl, asset)),
    );
  }
  return routes;
}
