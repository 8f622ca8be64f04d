/** A command that cannot be applied; the message is what clients see in the command outcome. */
export class CommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CommandError";
  }
}
