/**
 * Usage errors: the command line, an environment variable or the config file asked for something
 * that cannot be run. The CLI prints the message and exits with {@link EXIT_USAGE}.
 *
 * @module
 */

/** Exit code for a usage error (bad flag, bad value, missing app), as most Unix tools use 2. */
export const EXIT_USAGE = 2;

/** A setting or argument that cannot be used; the message names where it came from. */
export class UsageError extends Error {
  override get name(): string {
    return "UsageError";
  }
}
