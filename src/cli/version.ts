/** `gateway version`: our version and the runtime underneath. */
import denoJson from "../../deno.json" with { type: "json" };
import { parseFlags } from "./args.ts";

/** The gateway's version: deno.json is the one source (also `info.version` of /openapi.json). */
export const VERSION: string = denoJson.version;

export function versionText(): string {
  return `gateway ${VERSION} (deno ${Deno.version.deno}, v8 ${Deno.version.v8}, typescript ${Deno.version.typescript})`;
}

export function versionCommand(args: string[]): number {
  const { values } = parseFlags(args, { json: { type: "boolean" } });
  if (values.help) console.log("Usage: gateway version [--json]   (also gateway --version, gateway -V)");
  else if (values.json) {
    const { deno, v8, typescript } = Deno.version;
    console.log(JSON.stringify({ gateway: VERSION, deno, v8, typescript }));
  } else console.log(versionText());
  return 0;
}
