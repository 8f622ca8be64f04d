/**
 * The declared commands of the process manager, read from the JSON file named by
 * ABSTRACTGATEWAY_TOOLING_COMMANDS: `{"commands": {"<id>": {"argv": ["/abs/exe", ...], "cwd"?, "env"?}}}`.
 * Only these can ever be started; requests name an id, never an argv.
 */
import { isAbsolute } from "node:path";
import { z } from "zod";
import { ToolingError } from "./errors.ts";

export const COMMAND_ID = /^[A-Za-z0-9_.-]{1,64}$/;

const DeclaredCommand = z.strictObject({
  argv: z.array(z.string().min(1)).min(1).refine((argv) => isAbsolute(argv[0]), {
    message: "argv[0] must be an absolute path to the executable",
  }),
  cwd: z.string().refine(isAbsolute, { message: "cwd must be an absolute path" }).optional(),
  env: z.record(z.string(), z.string()).optional(),
  description: z.string().optional(),
});

const CommandsFile = z.strictObject({
  commands: z.record(z.string().regex(COMMAND_ID, "ids are [A-Za-z0-9_.-]{1,64}"), DeclaredCommand),
});

export type DeclaredCommand = z.infer<typeof DeclaredCommand>;

/** Reads and validates the commands file; a bad file is a startup-grade error naming the problem. */
export async function loadDeclaredCommands(path: string): Promise<Map<string, DeclaredCommand>> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new ToolingError(500, `Cannot read ABSTRACTGATEWAY_TOOLING_COMMANDS file ${path}: ${why}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ToolingError(
      500,
      `ABSTRACTGATEWAY_TOOLING_COMMANDS file ${path} is not JSON: ${(err as Error).message}`,
    );
  }
  const parsed = CommandsFile.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ToolingError(
      500,
      `ABSTRACTGATEWAY_TOOLING_COMMANDS file ${path} is invalid at ${
        issue.path.join(".") || "(root)"
      }: ${issue.message}`,
    );
  }
  return new Map(Object.entries(parsed.data.commands));
}
