/** How much of a file is looked at to tell text from binary (as git and ripgrep do). */
const sniffBytes = 8000;

/** True when the bytes look binary: a NUL byte in the first few kilobytes. */
export function looksBinary(bytes: Uint8Array): boolean {
  return bytes.subarray(0, sniffBytes).includes(0);
}
