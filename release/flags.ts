/**
 * The permission flags of the release binary, derived from the `gateway` permission set of deno.json so
 * that `deno task serve`, the tests and the binary share one set. Explicit relative flags are stored in
 * the compiled binary as given and resolved against the directory it starts in; `deno compile -P=gateway`
 * would instead resolve `./data` against deno.json at build time and bake the build checkout's paths in.
 */
import denoJson from "../deno.json" with { type: "json" };

type Entries = true | string[];
type Kind = Entries | { allow?: Entries; deny?: string[]; ignore?: boolean | string[] };

const KINDS = ["read", "write", "net", "env", "run", "sys", "ffi"] as const;

function flag(name: string, entries: Entries | boolean | string[] | undefined): string[] {
  if (entries === undefined || entries === false) return [];
  if (entries === true) return [`--${name}`];
  return entries.length ? [`--${name}=${entries.join(",")}`] : [];
}

/** `--allow-read=./data,./bundles`, `--allow-net`, `--deny-net=…`, `--ignore-env`, … for a set of deno.json. */
export function permissionFlags(setName = "gateway"): string[] {
  const set = (denoJson.permissions as Record<string, Record<string, Kind>>)[setName];
  if (!set) throw new Error(`Cannot derive flags: no permission set '${setName}' in deno.json`);
  const out: string[] = [];
  for (const kind of KINDS) {
    const value = set[kind];
    if (value === undefined) continue;
    if (value === true || Array.isArray(value)) {
      out.push(...flag(`allow-${kind}`, value));
      continue;
    }
    out.push(...flag(`allow-${kind}`, value.allow), ...flag(`deny-${kind}`, value.deny));
    out.push(...flag(`ignore-${kind}`, value.ignore));
  }
  return out;
}

/** The targets `deno compile` supports, with the file name each gets in dist/. */
export const TARGETS: Record<string, string> = {
  "x86_64-unknown-linux-gnu": "gateway-x86_64-linux",
  "aarch64-unknown-linux-gnu": "gateway-aarch64-linux",
  "x86_64-apple-darwin": "gateway-x86_64-macos",
  "aarch64-apple-darwin": "gateway-aarch64-macos",
  "x86_64-pc-windows-msvc": "gateway-x86_64-windows.exe",
};

/** The `deno compile` arguments for one target (no `--target` for the host build of `deno task compile`). */
export function compileArgs(output: string, target?: string): string[] {
  return [
    "compile",
    "--no-prompt",
    ...permissionFlags(),
    ...(target ? ["--target", target] : []),
    "-o",
    output,
    "main.ts",
  ];
}
