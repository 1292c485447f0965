/**
 * A value made on first use and kept: for what is costly to build at import time and not
 * needed by every command (a schema for a file that may not exist, say). Start-up is most of
 * a short command.
 */
export function lazy<T>(make: () => T): () => T {
  let made = false;
  let value: T;
  return () => {
    if (!made) {
      value = make();
      made = true;
    }
    return value;
  };
}
