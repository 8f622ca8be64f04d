/**
 * Test worker: appends to one data dir and prints "ack <i> <value>" after each append resolved
 * (value = ledger length or command seq). Args: <file|sqlite> <dataDir> <ledger|commands> <tag> <count>
 * (count -1 = until killed).
 */
import { openStores } from "../../../src/store/open.ts";
import type { StoreBackend } from "../../../src/store/types.ts";
import { makeCommand, makeRecord } from "../fixtures.ts";

const [backend, dataDir, mode, tag, countArg] = Deno.args;
const count = Number(countArg);
const stores = await openStores({ backend: backend as StoreBackend, dataDir });
const out = new TextEncoder();
for (let i = 0; count < 0 || i < count; i++) {
  let value: number;
  if (mode === "ledger") {
    // alternate single appends and batches of 3 so batches interleave with the other writer
    const batch = i % 2 === 0 ? [i] : [i, i + 0.25, i + 0.5];
    value = await stores.ledger.append(
      "shared",
      batch.map((n) => makeRecord("shared", 0, { step_id: `${tag}-${n}` })),
    );
  } else {
    value = (await stores.commands.append(makeCommand(`${tag}-${i}`, "shared"))).seq;
  }
  Deno.stdout.writeSync(out.encode(`ack ${i} ${value}\n`));
}
await stores.close();
Deno.stdout.writeSync(out.encode("done\n"));
