/**
 * Store decorators that feed the gateway metrics: every successful ledger append adds its record
 * count to `gateway_ledger_appends_total`, every recorded command outcome bumps
 * `gateway_commands_total{outcome}`. Wrap the stores once, right after opening them.
 */
import type { CommandStore, LedgerStore, Stores } from "../store/types.ts";
import type { GatewayMetrics } from "./gateway_metrics.ts";

export function instrumentLedger(ledger: LedgerStore, metrics: GatewayMetrics): LedgerStore {
  const appendWithRun = ledger.appendWithRun?.bind(ledger);
  return {
    async append(runId, records) {
      const length = await ledger.append(runId, records);
      metrics.ledgerAppended(records.length);
      return length;
    },
    appendWithRun: appendWithRun && (async (run, records) => {
      const length = await appendWithRun(run, records);
      metrics.ledgerAppended(records.length);
      return length;
    }),
    read: (runId, after, limit) => ledger.read(runId, after, limit),
    count: (runId) => ledger.count(runId),
    delete: (runId) => ledger.delete(runId),
  };
}

export function instrumentCommands(commands: CommandStore, metrics: GatewayMetrics): CommandStore {
  return {
    append: (command) => commands.append(command),
    listAfter: (after, limit) => commands.listAfter(after, limit),
    get: (commandId) => commands.get(commandId),
    lastSeq: () => commands.lastSeq(),
    loadCursor: (consumer) => commands.loadCursor(consumer),
    async complete(outcome, consumer) {
      await commands.complete(outcome, consumer);
      metrics.commandOutcome(outcome.status);
    },
    async completeMany(outcomes, consumer) {
      await commands.completeMany(outcomes, consumer);
      for (const outcome of outcomes) metrics.commandOutcome(outcome.status);
    },
    getOutcome: (commandId) => commands.getOutcome(commandId),
  };
}

/** The same stores with the ledger and command inbox instrumented; `close` closes the originals. */
export function instrumentStores(stores: Stores, metrics: GatewayMetrics): Stores {
  return {
    backend: stores.backend,
    runs: stores.runs,
    ledger: instrumentLedger(stores.ledger, metrics),
    commands: instrumentCommands(stores.commands, metrics),
    artifacts: stores.artifacts,
    wake: stores.wake,
    leases: stores.leases,
    runners: stores.runners,
    announce: stores.announce?.bind(stores),
    close: () => stores.close(),
  };
}
