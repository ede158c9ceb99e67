/**
 * How the CLI and the worker entries show an error that stopped a load or a boot.
 *
 * @module
 */

/**
 * An error for a person to read: its message, then its cause's stack if it has one (an
 * `AppLoadError` or `RegistryLoadError` carries the import failure there, with the file and line that threw).
 */
export function describeLoadError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error ? error.cause : undefined;
  return cause instanceof Error && cause.stack !== undefined ? `${message}\n${cause.stack}` : message;
}
