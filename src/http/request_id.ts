/** `X-Request-Id` on every response: the caller's id when it is sane, else a fresh 32-hex id. */

const SANE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The id for a request carrying `incoming` as its `X-Request-Id` header (absent: a fresh one). */
export function requestIdFrom(incoming: string | undefined): string {
  const id = incoming?.trim() ?? "";
  return SANE_ID.test(id) ? id : crypto.randomUUID().replaceAll("-", "");
}
