/** Standard cron expressions (5 or 6 fields, optional IANA timezone) via croner. */
import { Cron } from "croner";

/** Throws a one-line message when the expression or the timezone is not valid. */
export function checkCron(expression: string, timezone: string | null): void {
  nextCronFire(expression, timezone, new Date());
}

/** The first fire strictly after `after`, or null when the expression never fires again. */
export function nextCronFire(expression: string, timezone: string | null, after: Date): Date | null {
  let cron: Cron;
  try {
    cron = new Cron(expression, { paused: true, ...(timezone ? { timezone } : {}) });
  } catch (err) {
    throw new Error(`cron ${JSON.stringify(expression)} is not valid: ${(err as Error).message}`);
  }
  try {
    return cron.nextRun(after);
  } catch {
    throw new Error(`timezone ${JSON.stringify(timezone)} is not a valid IANA timezone (e.g. Europe/Paris)`);
  }
}
