/**
 * The HTML of the documentation pages: Swagger UI (`/docs`), its OAuth2 redirect page, and ReDoc
 * (`/redoc`), as FastAPI's `get_swagger_ui_html` / `get_redoc_html` write them, with two
 * differences: every asset URL is the app's own (no CDN: many deployments have no internet, and
 * a CDN script is a supply-chain risk), and the pages carry no inline script (Swagger UI's
 * settings travel in `data-` attributes and a served init script reads them), so a
 * `Content-Security-Policy: script-src 'self'` does not break them. ReDoc loads no web fonts.
 *
 * @module
 */

/** Escapes text for an HTML text node or a double-quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** The URLs the Swagger UI page refers to, already prefixed with the request's root path. */
export interface SwaggerUiUrls {
  openapi: string;
  css: string;
  favicon: string;
  bundle: string;
  init: string;
  oauth2Redirect: string;
}

/** The Swagger UI page. */
export function swaggerUiHtml(title: string, urls: SwaggerUiUrls): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" type="text/css" href="${escapeHtml(urls.css)}">
<link rel="icon" type="image/png" href="${escapeHtml(urls.favicon)}">
</head>
<body>
<div id="swagger-ui" data-openapi-url="${escapeHtml(urls.openapi)}" data-oauth2-redirect-url="${escapeHtml(urls.oauth2Redirect)}"></div>
<script src="${escapeHtml(urls.bundle)}"></script>
<script src="${escapeHtml(urls.init)}"></script>
</body>
</html>
`;
}

/**
 * The script that starts Swagger UI from the page's `data-` attributes: FastAPI's settings
 * (deep links, extensions shown, the OAuth2 redirect on this origin for the Authorize button).
 */
export const SWAGGER_UI_INIT_JS = `"use strict";
(function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    // Swagger UI otherwise shows a badge fetched from validator.swagger.io: no request leaves for outside.
    validatorUrl: null,
    oauth2RedirectUrl: window.location.origin + root.dataset.oauth2RedirectUrl,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset]
  });
})();
`;

/** The ReDoc page. */
export function redocHtml(title: string, urls: { openapi: string; bundle: string }): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>body { margin: 0; padding: 0; }</style>
</head>
<body>
<redoc spec-url="${escapeHtml(urls.openapi)}"></redoc>
<script src="${escapeHtml(urls.bundle)}"></script>
</body>
</html>
`;
}
