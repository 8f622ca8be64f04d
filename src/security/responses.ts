/** The JSON rejections of the security layer (exact bodies of the gateway contract, Appendix B). */

const encoder = new TextEncoder();

/** `application/json; charset=utf-8` with an explicit Content-Length. */
function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  const bytes = encoder.encode(JSON.stringify(body));
  return new Response(bytes, {
    status,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "content-length": String(bytes.byteLength),
      ...headers,
    },
  });
}

export const originForbidden = (): Response =>
  jsonResponse(403, { detail: "Forbidden (origin not allowed)" });

export const csrfForbidden = (): Response =>
  jsonResponse(403, { detail: "Forbidden (CSRF token missing or wrong)", reason_code: "csrf" });

export const unauthorized = (): Response =>
  jsonResponse(401, { detail: "Unauthorized" }, { "www-authenticate": "Bearer" });

export const noTokenConfigured = (): Response =>
  jsonResponse(503, { detail: "Gateway auth required but no token configured" });

export const lockedOut = (retryAfterS: number): Response =>
  jsonResponse(429, { detail: "Too Many Requests (auth lockout)" }, { "retry-after": String(retryAfterS) });

export const tooManyConcurrent = (): Response =>
  jsonResponse(429, { detail: "Too Many Requests (concurrency limit)" }, { "retry-after": "1" });

export const adminRequired = (resourceClass: string, action: "read" | "write"): Response =>
  jsonResponse(403, {
    detail: "Admin principal required",
    reason_code: "admin_required",
    required_role: "admin",
    resource_class: resourceClass,
    action,
  });

export const payloadTooLarge = (bytes: number, limit: number): Response =>
  jsonResponse(413, { detail: `Payload Too Large (${bytes} bytes > ${limit} bytes)` });

export const timedOut = (seconds: number): Response =>
  jsonResponse(503, { detail: `Request timed out after ${seconds}s` });
