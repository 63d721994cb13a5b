/** Changes the audit log behind the ledger's back, straight in the store, as an intruder with write access would. */
import { DatabaseSync } from "node:sqlite";
import { parseLedgerLocation } from "../../provider/src/ledger";
import type { AuditRecord } from "../../provider/src/model/audit";
import { auditKey } from "../../provider/src/ledger/store";
import type { Backend } from "../support/servers";

export type Tampering = { kind: "edit"; position: number; record: AuditRecord } | { kind: "remove"; position: number };

export async function tamper(backend: Backend, url: string, change: Tampering): Promise<void> {
  const location = parseLedgerLocation(url);
  if (location.kind === "sqlite") {
    const db = new DatabaseSync(location.path);
    try {
      if (change.kind === "remove") db.prepare("DELETE FROM audit WHERE seq = ?").run(change.position);
      else {
        const { record } = change;
        const e = record.event;
        db.prepare(
          `INSERT INTO audit (seq, id, time, action, actor, outcome, record, prev, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (seq) DO UPDATE SET record = excluded.record, prev = excluded.prev, hash = excluded.hash, actor = excluded.actor`,
        ).run(change.position, `${e.id}`, Date.parse(e.time), e.action, e.actor, e.outcome, JSON.stringify(e), record.prev, record.hash);
      }
    } finally {
      db.close();
    }
    return;
  }
  const store = await location.make();
  try {
    const key = auditKey(change.position);
    const current = await store.get("audit", key);
    if (change.kind === "remove") {
      if (!current || !(await store.delete("audit", key, current.version))) throw new Error(`could not remove audit entry ${change.position} from ${backend}`);
    } else if (!(await store.put("audit", key, JSON.stringify(change.record), current?.version ?? 0))) {
      throw new Error(`could not write audit entry ${change.position} in ${backend}`);
    }
  } finally {
    await store.close();
  }
}
