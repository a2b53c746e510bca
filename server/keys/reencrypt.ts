import { sql, type SQL } from "drizzle-orm";
import type { Db, DbOrTx } from "@/db/client";
import { auditLog } from "@/db/schema";
import { recordAudit } from "@/server/audit/record-audit";
import { ENVELOPE_PREFIX, envelopeKeyVersion, envelopePrefix, reencryptField } from "@/server/crypto/field";
import { keyRing, type KeyRing } from "@/server/crypto/key-ring";
import { ENCRYPTED_COLUMNS, type EncryptedColumn } from "./encrypted-columns";

// Key rotation's background half (docs/security.md "Rotating the field-encryption key"): every stored envelope
// not under the ring's active key is decrypted with the key it names and encrypted again under the active one.
// A batch at a time, each in its own transaction, rows locked FOR NO KEY UPDATE SKIP LOCKED: a busy row is
// left for the next pass instead of waited on, and the lock (the same one the UPDATE takes) does not block
// the FOR KEY SHARE locks that inserts referencing a checkout take. No cursor is kept: the database is the
// progress, so a crashed or repeated run simply carries on. updated_at is left alone (the value is the same).

export const REENCRYPT_BATCH_SIZE = 200;
export const REENCRYPT_BATCH_MAX = 1000;

/**
 * SQL: `column` holds an envelope under one of the ring's versions other than the active one. Rows under a
 * version missing from the ring are left out: they cannot be decrypted (rotationStatus counts them as
 * unreadable), and taking them would fail every batch, so the readable rows behind them would never move.
 */
function staleUnder(c: EncryptedColumn, ring: Pick<KeyRing, "active" | "versions">): SQL {
  const old = ring.versions.filter((v) => v !== ring.active);
  if (old.length === 0) return sql`false`;
  const isEnvelope = sql`${c.column} like ${`${ENVELOPE_PREFIX}%`}`;
  // Key 1's envelopes have no k<N> part; every other version's start with their own prefix.
  const under = old.map((v) => (v === 1 ? sql`${c.column} !~ '^v1\\.k[0-9]{1,6}\\.'` : sql`${c.column} like ${`${envelopePrefix(v)}%`}`));
  return sql`(${isEnvelope} and (${sql.join(under, sql` or `)}))`;
}

export interface BatchResult {
  table: string;
  reencrypted: number;
  /** How many of them were under each old version. */
  fromVersions: Record<string, number>;
}

/** Re-encrypts up to `batchSize` rows of one column in one transaction, with one audit row; 0: none left to take. */
export async function reencryptBatch(db: Db, c: EncryptedColumn, opts: { batchSize?: number; ring?: KeyRing } = {}): Promise<BatchResult> {
  const ring = opts.ring ?? keyRing();
  const limit = Math.min(Math.max(1, opts.batchSize ?? REENCRYPT_BATCH_SIZE), REENCRYPT_BATCH_MAX);
  return db.transaction(async (tx) => {
    const rows = (await tx.execute(sql`
      select ${c.id} as id, ${c.column} as value from ${c.table}
      where ${staleUnder(c, ring)}
      order by ${c.id} limit ${limit}
      for no key update skip locked`)) as unknown as { id: string; value: string }[];
    const fromVersions: Record<string, number> = {};
    if (rows.length === 0) return { table: c.name, reencrypted: 0, fromVersions };
    const ids: string[] = [];
    const values: string[] = [];
    for (const row of rows) {
      const v = String(envelopeKeyVersion(row.value));
      fromVersions[v] = (fromVersions[v] ?? 0) + 1;
      ids.push(row.id);
      values.push(reencryptField(row.value, ring)); // its version is in the ring (staleUnder)
    }
    await tx.execute(sql`
      update ${c.table} set ${sql.identifier(c.column.name)} = v.value
      from (select unnest(${sql.param(ids)}::text[]) as id, unnest(${sql.param(values)}::text[]) as value) v
      where ${c.id} = v.id`);
    await recordAudit(tx, {
      actor: null,
      action: "encryption.reencrypted",
      target: { type: "encrypted_column", id: c.name },
      data: { rows: rows.length, fromVersions, toVersion: ring.active, firstId: ids[0], lastId: ids.at(-1) },
    });
    return { table: c.name, reencrypted: rows.length, fromVersions };
  });
}

export interface ReencryptPass {
  reencrypted: number;
  batches: number;
  /** Nothing was left to take (rows locked by others at the time may still remain: see rotationStatus). */
  exhausted: boolean;
}

/** Runs batches over every encrypted column until none is left or `maxBatches` ran. */
export async function reencryptPass(db: Db, opts: { batchSize?: number; maxBatches?: number; ring?: KeyRing } = {}): Promise<ReencryptPass> {
  const maxBatches = opts.maxBatches ?? 25;
  let reencrypted = 0;
  let batches = 0;
  for (const c of ENCRYPTED_COLUMNS) {
    for (;;) {
      if (batches >= maxBatches) return { reencrypted, batches, exhausted: false };
      const r = await reencryptBatch(db, c, opts);
      batches++;
      reencrypted += r.reencrypted;
      if (r.reencrypted === 0) break;
    }
  }
  return { reencrypted, batches, exhausted: true };
}

export interface ColumnStatus {
  table: string;
  /** Rows holding an envelope. */
  total: number;
  /** Of them, not under the active key: what the job still has to do. */
  remaining: number;
  /** Envelopes by key version. */
  byVersion: Record<string, number>;
}
export interface RotationStatus {
  activeVersion: number;
  ringVersions: number[];
  /** Rows under versions missing from the ring: unreadable until their key is added back. */
  unreadable: number;
  remaining: number;
  total: number;
  tables: ColumnStatus[];
  lastReencryptedAt: string | null;
}

/** Progress of a rotation: per column, rows still under an old key out of all encrypted rows. Read-only. */
export async function rotationStatus(db: DbOrTx, ring: KeyRing = keyRing()): Promise<RotationStatus> {
  const tables: ColumnStatus[] = [];
  let unreadable = 0;
  for (const c of ENCRYPTED_COLUMNS) {
    const rows = (await db.execute(sql`
      select coalesce(substring(${c.column} from '^v1\\.k([0-9]{1,6})\\.'), '1') as version, count(*)::int as n
      from ${c.table} where ${c.column} like ${`${ENVELOPE_PREFIX}%`} group by 1`)) as unknown as { version: string; n: number }[];
    const byVersion: Record<string, number> = {};
    let total = 0;
    let remaining = 0;
    for (const r of rows) {
      byVersion[r.version] = r.n;
      total += r.n;
      if (Number(r.version) !== ring.active) remaining += r.n;
      if (!ring.keys.has(Number(r.version))) unreadable += r.n;
    }
    tables.push({ table: c.name, total, remaining, byVersion });
  }
  const [last] = (await db.execute(sql`select max(${auditLog.createdAt}) as at from ${auditLog} where ${auditLog.action} = 'encryption.reencrypted'`)) as unknown as { at: Date | string | null }[];
  return {
    activeVersion: ring.active,
    ringVersions: [...ring.versions],
    unreadable,
    remaining: tables.reduce((s, t) => s + t.remaining, 0),
    total: tables.reduce((s, t) => s + t.total, 0),
    tables,
    lastReencryptedAt: last?.at ? new Date(last.at).toISOString() : null,
  };
}
