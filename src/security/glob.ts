/**
 * Origin allow-list matching. A pattern is either `*` (any origin), a case-sensitive shell glob when it
 * contains `*`, `?` or `[` (`*` also matches `.`, `/` and `:`), or an exact origin string.
 */

const cache = new Map<string, RegExp>();

/** Translates a shell glob (fnmatch syntax: `*`, `?`, `[seq]`, `[!seq]`) into an anchored RegExp. */
export function globToRegExp(pattern: string): RegExp {
  const hit = cache.get(pattern);
  if (hit) return hit;
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === "*") out += "[\\s\\S]*";
    else if (ch === "?") out += "[\\s\\S]";
    else if (ch === "[") {
      const end = classEnd(pattern, i);
      if (end < 0) out += "\\[";
      else {
        out += classToRegExp(pattern.slice(i + 1, end));
        i = end;
      }
    } else out += escapeChar(ch);
  }
  const re = compile(out);
  if (cache.size < 1000) cache.set(pattern, re);
  return re;
}

/** An unusable class range (e.g. `[z-a]`) makes the pattern match nothing rather than throw. */
function compile(source: string): RegExp {
  try {
    return new RegExp(`^${source}$`, "u");
  } catch {
    return /(?!)/;
  }
}

/** Index of the `]` closing the class opened at `start`, or -1 (then `[` is a literal). */
function classEnd(pattern: string, start: number): number {
  let j = start + 1;
  if (pattern[j] === "!") j++;
  if (pattern[j] === "]") j++; // a leading `]` is part of the set
  return pattern.indexOf("]", j);
}

function classToRegExp(body: string): string {
  const negate = body.startsWith("!");
  const members = negate ? body.slice(1) : body;
  // Inside a RegExp class only `\`, `]`, `[` and `^` need escaping; `-` keeps its range meaning.
  const escaped = members.replace(/[\\\]\[^]/g, (m) => `\\${m}`);
  return `[${negate ? "^" : ""}${escaped}]`;
}

function escapeChar(ch: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(ch) ? `\\${ch}` : ch;
}

const isGlob = (pattern: string): boolean => /[*?[]/.test(pattern);

/** A serialised origin (`scheme://host[:port]`, no path); globs only ever match these. */
function isCanonicalOrigin(origin: string): boolean {
  try {
    return new URL(origin).origin === origin;
  } catch {
    return false;
  }
}

/**
 * True when `origin` is allowed by `patterns`. Exact patterns compare as strings (so `null` can be
 * allowed explicitly); glob patterns only match well-formed origins, so `http://localhost:*` cannot be
 * stretched over `http://localhost:1@evil.example` or a value with a path.
 */
export function originAllowed(origin: string, patterns: readonly string[]): boolean {
  for (const pattern of patterns) {
    if (pattern === "*") return true;
    if (!isGlob(pattern)) {
      if (pattern === origin) return true;
    } else if (isCanonicalOrigin(origin) && globToRegExp(pattern).test(origin)) return true;
  }
  return false;
}

/**
 * A pattern that lets arbitrary third-party sites call the API: `*`, any ngrok wildcard, or any
 * wildcard that is not tied to a loopback host.
 */
export function isPublicWildcard(pattern: string): boolean {
  if (pattern === "*") return true;
  if (!pattern.includes("*")) return false;
  if (pattern.includes("ngrok")) return true;
  return !["localhost", "127.0.0.1", "::1"].some((h) => pattern.includes(h));
}
