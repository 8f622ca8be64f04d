/**
 * Classifies operating-system errors by what the caller should do: a full disk is transient (retry
 * once space is freed, answer 507), a name too long is the client's input, and a body the client
 * aborted mid-read is the client's problem too.
 */

function codeOf(err: unknown): string | null {
  if (err === null || typeof err !== "object") return null;
  // node:sqlite reports a full disk with its generic code and SQLite's text in the message.
  const message = (err as { message?: unknown }).message;
  if (typeof message === "string" && /SQLITE_FULL|database or disk is full/i.test(message)) return "ENOSPC";
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" ? code : null;
}

/** The disk (or quota) is full: nothing was written; retrying after space is freed will succeed. */
export function isDiskFull(err: unknown): boolean {
  const code = codeOf(err);
  return code === "ENOSPC" || code === "EDQUOT";
}

/** A path component longer than the filesystem allows (a client-supplied name). */
export const isNameTooLong = (err: unknown): boolean => codeOf(err) === "ENAMETOOLONG";

/** The client went away or sent a broken body while we were reading it. */
export function isAbortedBody(err: unknown): boolean {
  return err instanceof Deno.errors.BadResource || err instanceof Deno.errors.ConnectionReset ||
    err instanceof Deno.errors.BrokenPipe || err instanceof Deno.errors.UnexpectedEof ||
    err instanceof Deno.errors.Http || (err instanceof DOMException && err.name === "AbortError");
}
