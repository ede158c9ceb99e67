/**
 * Where the documentation pages' assets are on disk: files of the npm packages `swagger-ui-dist`
 * (Swagger UI's prebuilt bundle) and `redoc` (its `bundles/redoc.standalone.js`, a self-contained
 * browser file), found through Node's module resolution from this file, so they are the versions
 * the app was installed with.
 *
 * @module
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);

/** A package the documentation pages need is not installed. */
export class DocsAssetsMissingError extends Error {
  override get name(): string {
    return "DocsAssetsMissingError";
  }
}

/** One asset: the URL name it is served under and the file it comes from. */
export interface DocsAsset {
  readonly name: string;
  readonly pkg: string;
  readonly file: string;
}

/** Swagger UI's files, served under the docs URL (`/docs/swagger-ui-bundle.js`, …). */
export const SWAGGER_UI_ASSETS: readonly DocsAsset[] = [
  { name: "swagger-ui-bundle.js", pkg: "swagger-ui-dist", file: "swagger-ui-bundle.js" },
  { name: "swagger-ui.css", pkg: "swagger-ui-dist", file: "swagger-ui.css" },
  { name: "favicon-32x32.png", pkg: "swagger-ui-dist", file: "favicon-32x32.png" },
  // The redirect page loads it by a relative URL, so it lives beside /docs/oauth2-redirect.
  { name: "oauth2-redirect.js", pkg: "swagger-ui-dist", file: "oauth2-redirect.js" },
];

/** Swagger UI's OAuth2 redirect page (served at `<docs>/oauth2-redirect`, as FastAPI does). */
export const OAUTH2_REDIRECT_PAGE: DocsAsset = { name: "oauth2-redirect", pkg: "swagger-ui-dist", file: "oauth2-redirect.html" };

/** ReDoc's standalone bundle, served under the ReDoc URL. */
export const REDOC_ASSETS: readonly DocsAsset[] = [{ name: "redoc.standalone.js", pkg: "redoc", file: "bundles/redoc.standalone.js" }];

const packageDirs = new Map<string, string>();

/**
 * The absolute path of an asset's file.
 *
 * @throws DocsAssetsMissingError when its package is not installed
 */
export function assetPath(asset: DocsAsset): string {
  let dir = packageDirs.get(asset.pkg);
  if (dir === undefined) {
    try {
      dir = dirname(require.resolve(`${asset.pkg}/package.json`));
    } catch (error) {
      throw new DocsAssetsMissingError(`the documentation page needs the npm package ${asset.pkg}: npm install ${asset.pkg}`, { cause: error });
    }
    packageDirs.set(asset.pkg, dir);
  }
  return join(dir, asset.file);
}
