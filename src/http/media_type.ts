/**
 * Media types that may go into a `Content-Type` header: `type/subtype` tokens plus optional
 * parameters, printable ASCII only (a CR/LF would split the header, non-ASCII makes Headers throw).
 */
const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const MEDIA_TYPE = new RegExp(
  `^${TOKEN}/${TOKEN}(\\s*;\\s*${TOKEN}=(${TOKEN}|"[\\x20-\\x21\\x23-\\x7e]*"))*$`,
);
const MAX_LENGTH = 200;

export const isValidMediaType = (value: string): boolean =>
  value.length <= MAX_LENGTH && MEDIA_TYPE.test(value);

/** `value` when it is a valid media type, else the generic binary type (for serving stored artifacts). */
export const servableMediaType = (value: string | null | undefined): string =>
  value && isValidMediaType(value) ? value : "application/octet-stream";
