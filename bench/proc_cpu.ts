/**
 * CPU time by process from /proc (Linux; empty elsewhere), for benchmarks that must say what bounds
 * them: the runner processes, the PostgreSQL server processes, this process, and how busy the whole
 * machine was (other load included, which the figures cannot control).
 */
const TICK_S = 0.01; // USER_HZ is 100 on Linux

/** utime + stime of one process in seconds, or 0 when it is gone. */
export function processCpuS(pid: number | "self"): number {
  return statCpuS(`/proc/${pid}/stat`);
}

/**
 * User+system CPU seconds of a process's main thread only (the one running JavaScript's event loop and
 * the app; the connection front and V8's helpers run on others): what bounds latency on a free core.
 */
export function mainThreadCpuS(pid: number): number {
  return statCpuS(`/proc/${pid}/task/${pid}/stat`);
}

function statCpuS(path: string): number {
  try {
    const stat = Deno.readTextFileSync(path);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * TICK_S;
  } catch {
    return 0;
  }
}

/** PostgreSQL server processes: the postmaster's title and every backend's start with "postgres". */
function postgresPids(): number[] {
  const pids: number[] = [];
  try {
    for (const entry of Deno.readDirSync("/proc")) {
      if (!/^\d+$/.test(entry.name)) continue;
      try {
        const cmd = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`);
        if (cmd.startsWith("postgres") || cmd.includes("/bin/postgres")) pids.push(Number(entry.name));
      } catch { /* exited meanwhile */ }
    }
  } catch { /* no /proc */ }
  return pids;
}

/** Busy and total jiffies of the whole machine (all cores). */
function machineJiffies(): { busy: number; total: number } {
  try {
    const cpu = Deno.readTextFileSync("/proc/stat").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    const total = cpu.reduce((a, b) => a + b, 0);
    return { busy: total - cpu[3] - (cpu[4] ?? 0), total };
  } catch {
    return { busy: 0, total: 0 };
  }
}

export interface CpuSample {
  runners: number;
  postgres: number;
  self: number;
  machine: { busy: number; total: number };
  /** Per pid, so a backend that exits between samples still counts what it used before. */
  perPid: Map<number, number>;
}

export function sampleCpu(runnerPids: number[]): CpuSample {
  const perPid = new Map<number, number>();
  let postgres = 0;
  for (const pid of postgresPids()) {
    const s = processCpuS(pid);
    perPid.set(pid, s);
    postgres += s;
  }
  let runners = 0;
  for (const pid of runnerPids) runners += processCpuS(pid);
  return { runners, postgres, self: processCpuS("self"), machine: machineJiffies(), perPid };
}

/** "CPU s: runners 1.2, postgres 2.3, API 0.4; machine 95% busy": what the interval cost. */
export function describeCpu(before: CpuSample, after: CpuSample): string {
  // Backends started during the interval count from 0; those gone before `after` are missed (small).
  let postgres = 0;
  for (const [pid, s] of after.perPid) postgres += s - (before.perPid.get(pid) ?? 0);
  const busy = after.machine.busy - before.machine.busy;
  const total = after.machine.total - before.machine.total;
  const share = total > 0 ? ` (machine ${(100 * busy / total).toFixed(0)}% busy, other load included)` : "";
  return `CPU s: runners ${(after.runners - before.runners).toFixed(1)}, postgres ${postgres.toFixed(1)}, ` +
    `API ${(after.self - before.self).toFixed(1)}${share}`;
}
