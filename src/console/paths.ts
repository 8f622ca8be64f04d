/** Where the console is mounted. */
export const CONSOLE_BASE = "/console";
