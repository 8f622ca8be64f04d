/** `gateway version`: our version and the runtime underneath. */
import denoJson from "../../deno.json" with { type: "json" };

export const VERSION: string = denoJson.version;

export function versionText(): string {
  return `gateway ${VERSION} (deno ${Deno.version.deno}, v8 ${Deno.version.v8}, typescript ${Deno.version.typescript})`;
}
