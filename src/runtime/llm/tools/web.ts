/**
 * Web tools: fetch_url and web_search (DuckDuckGo HTML). They reach only hosts the operator named
 * (ABSTRACTGATEWAY_OUTBOUND_HOSTS; the runtime hands them a fetch guarded by src/security/outbound.ts),
 * so in a default deployment they return that refusal as a tool error. Loopback/private targets are
 * refused (SSRF) unless the context allows them (tests).
 */
import { int, str } from "./args.ts";
import { type Tool, type ToolContext, ToolError } from "./types.ts";

const PRIVATE_HOST =
  /^(localhost|.*\.localhost|127\.\d+\.\d+\.\d+|10\.\d+\.\d+\.\d+|192\.168\.\d+\.\d+|172\.(1[6-9]|2\d|3[01])\.\d+\.\d+|169\.254\.\d+\.\d+|0\.0\.0\.0|\[?::1?\]?|\[?f[cd][0-9a-f]*:.*|\[?fe80:.*)$/i;

/** The 16 bytes of an IPv6 literal (URL hostnames are normalised: no zone, hex groups), or null. */
function ipv6Bytes(host: string): number[] | null {
  if (!host.startsWith("[") || !host.endsWith("]")) return null;
  let text = host.slice(1, -1).toLowerCase();
  const v4 = text.match(/^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/);
  if (v4) {
    const [a, b, c, d] = v4.slice(2).map(Number);
    text = `${v4[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes("::") ? text.split("::") : [text, null];
  const parse = (part: string) => (part ? part.split(":").map((g) => parseInt(g, 16)) : []);
  const left = parse(head);
  const right = tail === null ? [] : parse(tail);
  const groups = tail === null ? left : [...left, ...Array(8 - left.length - right.length).fill(0), ...right];
  if (groups.length !== 8 || groups.some((g) => !Number.isInteger(g) || g < 0 || g > 0xffff)) return null;
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

const isPrivateV4 = ([a, b]: number[]): boolean =>
  a === 0 || a === 10 || a === 127 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) ||
  (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127);

/**
 * True for an IPv6 literal that embeds an IPv4 address (mapped `::ffff:a.b.c.d`, compatible
 * `::a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`) whose IPv4 address is loopback or private.
 */
function isPrivateEmbeddedV4(host: string): boolean {
  const bytes = ipv6Bytes(host);
  if (!bytes) return false;
  const prefix = bytes.slice(0, 12);
  const zeros = (n: number) => prefix.slice(0, n).every((x) => x === 0);
  const mapped = zeros(10) && prefix[10] === 0xff && prefix[11] === 0xff;
  const compatible = zeros(12);
  const nat64 = prefix[0] === 0 && prefix[1] === 0x64 && prefix[2] === 0xff && prefix[3] === 0x9b &&
    prefix.slice(4).every((x) => x === 0);
  return (mapped || compatible || nat64) && isPrivateV4(bytes.slice(12));
}

function checkedUrl(raw: string, ctx: ToolContext): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ToolError(`Not a valid URL: ${raw}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ToolError(`Only http(s) URLs can be fetched: ${raw}`);
  }
  if (!ctx.allowPrivateNetwork && (PRIVATE_HOST.test(url.hostname) || isPrivateEmbeddedV4(url.hostname))) {
    throw new ToolError(`Refusing to fetch a loopback or private-network address: ${url.hostname}`);
  }
  return url;
}

async function get(url: URL, ctx: ToolContext): Promise<{ status: number; type: string; text: string }> {
  const signal = AbortSignal.timeout(30_000);
  const response = await (ctx.fetch ?? fetch)(url, {
    headers: { "user-agent": "gateway-fetch-url/1", accept: "text/html,text/plain,application/json,*/*" },
    signal: ctx.signal ? AbortSignal.any([ctx.signal, signal]) : signal,
  });
  const text = await response.text();
  return { status: response.status, type: response.headers.get("content-type") ?? "", text };
}

/** Readable text from HTML: drops scripts/styles/tags and decodes the common entities. */
export function htmlToText(html: string): string {
  return html
    .replace(/<(script|style|noscript)[\s\S]*?<\/\1>/gi, " ")
    .replace(/<br\s*\/?>|<\/(p|div|li|h[1-6]|tr)>/gi, "\n")
    .replace(/<[^>]+>/g, " ")
    .replace(/&nbsp;/g, " ").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"')
    .replace(/&#39;|&#x27;/g, "'").replace(/&amp;/g, "&")
    .replace(/[ \t]+/g, " ").replace(/\n\s*\n+/g, "\n\n").trim();
}

export const fetchUrl: Tool = {
  safe: true,
  spec: {
    name: "fetch_url",
    toolset: "web",
    description: "Fetch a web page or API response over http(s) and return its text.",
    parameters: {
      url: { type: "string", description: "The http(s) URL" },
      max_chars: { type: "integer", description: "Maximum characters returned", default: 20000 },
    },
  },
  async run(args, ctx) {
    const url = checkedUrl(str(args, "url"), ctx);
    const { status, type, text } = await get(url, ctx);
    const body = type.includes("html") ? htmlToText(text) : text;
    const max = Math.max(100, int(args, "max_chars", 20000));
    const output = `URL: ${url.href}\nStatus: ${status}\nContent-Type: ${type}\n\n${body.slice(0, max)}${
      body.length > max ? "\n… truncated" : ""
    }`;
    if (status >= 400) throw new ToolError(`HTTP ${status} from ${url.href}`, output);
    return output;
  },
};

export const webSearch: Tool = {
  safe: true,
  spec: {
    name: "web_search",
    toolset: "web",
    description: "Search the web (DuckDuckGo) and return titles, links and snippets.",
    parameters: {
      query: { type: "string", description: "Search query" },
      num_results: { type: "integer", description: "Number of results", default: 5 },
    },
  },
  async run(args, ctx) {
    const query = str(args, "query").trim();
    if (!query) throw new ToolError('Argument "query" must not be empty');
    const url = checkedUrl(
      `${ctx.webSearchUrl ?? "https://html.duckduckgo.com/html/"}?q=${encodeURIComponent(query)}`,
      ctx,
    );
    const { status, text } = await get(url, ctx);
    if (status >= 400) throw new ToolError(`Search failed: HTTP ${status} from ${url.origin}`);
    const limit = Math.max(1, int(args, "num_results", 5));
    const results = [
      ...text.matchAll(
        /<a[^>]*class="result__a"[^>]*href="([^"]*)"[^>]*>([\s\S]*?)<\/a>[\s\S]*?(?:class="result__snippet"[^>]*>([\s\S]*?)<\/a>|(?=<a[^>]*class="result__a"))/g,
      ),
    ]
      .slice(0, limit)
      .map((m, i) => `${i + 1}. ${htmlToText(m[2])}\n   ${resultLink(m[1])}\n   ${htmlToText(m[3] ?? "")}`);
    return results.length ? `Results for "${query}":\n${results.join("\n")}` : `No results for "${query}"`;
  },
};

/** DuckDuckGo wraps links as /l/?uddg=<encoded target>. */
function resultLink(href: string): string {
  const decoded = href.replace(/&amp;/g, "&");
  const match = decoded.match(/[?&]uddg=([^&]+)/);
  return match ? decodeURIComponent(match[1]) : decoded;
}
