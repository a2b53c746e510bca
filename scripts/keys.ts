/**
 * Field-encryption key rotation (docs/security.md "Rotating the field-encryption key").
 *   npm run keys:rotate-status   rows per encrypted column still under an old key (exit 1 while any remain,
 *                                exit 3 if some are under a key missing from the ring)
 *   npm run keys:lookup-key      prints the lookup-hash key to pin as FIELD_LOOKUP_KEY before key 1 leaves the ring
 * Uses DATABASE_URL if set, else the embedded dev Postgres (like the ledger scripts).
 */
import { keyRing } from "../server/crypto/key-ring";
import { rotationStatus } from "../server/keys";
import { withLedgerDb } from "./ledger-db";

async function main(): Promise<number> {
  const command = process.argv[2];
  if (command === "lookup-key") {
    console.log(keyRing().lookupKey.toString("base64"));
    return 0;
  }
  if (command !== "status") {
    console.error("usage: tsx scripts/keys.ts status | lookup-key");
    return 2;
  }
  const s = await withLedgerDb((db) => rotationStatus(db));
  console.log(`active key version ${s.activeVersion}; ring: ${s.ringVersions.join(", ")}; last re-encryption batch: ${s.lastReencryptedAt ?? "never"}`);
  for (const t of s.tables) {
    const versions = Object.entries(t.byVersion).map(([v, n]) => `v${v}=${n}`).join(" ") || "-";
    console.log(`  ${t.table.padEnd(36)} ${String(t.remaining).padStart(8)} of ${String(t.total).padStart(8)} remaining  (${versions})`);
  }
  console.log(s.remaining === 0 ? "0 remain under old keys: an old key may now be removed from FIELD_ENCRYPTION_KEYS" : `${s.remaining} of ${s.total} remain under old keys: keep every version listed in the ring`);
  if (s.unreadable > 0) console.log(`${s.unreadable} values are under a key version missing from the ring: add it back`);
  return s.unreadable > 0 ? 3 : s.remaining === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(2);
  },
);
