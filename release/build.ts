/**
 * `deno task release`: cross-compiles the gateway for every target Deno supports into dist/, with the
 * permission flags of release/flags.ts, and writes dist/SHA256SUMS (`sha256sum -c SHA256SUMS` format).
 * Needs a machine that can fetch Deno's runtime for each target. `deno task compile` builds the host
 * target only, as dist/gateway.
 *
 *   deno task release            # every target
 *   deno task compile            # this machine's target → dist/gateway
 */
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { sha256Hex } from "../src/util/hash.ts";
import { compileArgs, TARGETS } from "./flags.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DIST = join(ROOT, "dist");

async function compile(output: string, target?: string): Promise<void> {
  const args = compileArgs(output, target);
  console.error(`deno ${args.join(" ")}`);
  const status = await new Deno.Command(Deno.execPath(), { args, cwd: ROOT, stdin: "null" }).spawn().status;
  if (!status.success) {
    throw new Error(`Cannot compile ${target ?? "for this machine"}: deno compile exited ${status.code}`);
  }
}

async function release(): Promise<void> {
  await Deno.mkdir(DIST, { recursive: true });
  const sums: string[] = [];
  for (const [target, name] of Object.entries(TARGETS)) {
    const output = join(DIST, name);
    await compile(output, target);
    sums.push(`${sha256Hex(await Deno.readFile(output))}  ${basename(output)}`);
  }
  await Deno.writeTextFile(join(DIST, "SHA256SUMS"), sums.join("\n") + "\n");
  console.error(`wrote ${Object.keys(TARGETS).length} binaries and SHA256SUMS to ${DIST}`);
}

if (import.meta.main) {
  if (Deno.args[0] === "--host") await compile(join(DIST, "gateway"));
  else await release();
}
