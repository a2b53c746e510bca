import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ENCRYPTED_COLUMNS } from "./encrypted-columns";

// Key rotation re-encrypts only the columns ENCRYPTED_COLUMNS names; a column written with encryptField that is
// missing there stays under the old key and becomes unreadable when that key is removed. This pins the files
// that encrypt: a new one fails here until its column is in ENCRYPTED_COLUMNS (then add the file below).

const ROOT = path.resolve(__dirname, "../..");
const WRITERS: Record<string, string> = {
  "server/payments/create-checkout.ts": "checkouts.buyer_info_encrypted",
  "server/disputes/respond.ts": "disputes.evidence_encrypted",
  "server/payments/attempts.ts": "payment_attempts.phone_encrypted",
  "server/payouts/destinations.ts": "payout_destinations.phone_encrypted",
  "server/payouts/test-helpers.ts": "payout_destinations.phone_encrypted",
  "scripts/seed-demo.ts": "payout_destinations.phone_encrypted",
  "server/webhooks/store-psp-event.ts": "psp_events.raw_body",
  "server/webhooks/redact-stored-psp-events.ts": "psp_events.raw_body",
  "server/webhooks-out/endpoints.ts": "webhook_endpoints.secret_encrypted",
};

function sources(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === "node_modules" ? [] : sources(rel);
    return /\.(ts|tsx)$/.test(e.name) && !/\.(test|integration-test)\.ts$/.test(e.name) ? [rel] : [];
  });
}

describe("ENCRYPTED_COLUMNS", () => {
  it("covers every file that writes field-encryption envelopes", () => {
    const writers = ["server", "app", "inngest", "scripts"]
      .flatMap(sources)
      .filter((f) => !f.startsWith("server/crypto/"))
      .filter((f) => /\b(encryptField|encryptJson)\(/.test(readFileSync(path.join(ROOT, f), "utf8")));
    expect(writers.sort()).toEqual(Object.keys(WRITERS).sort());
    const names = new Set(ENCRYPTED_COLUMNS.map((c) => c.name));
    for (const column of Object.values(WRITERS)) expect(names).toContain(column);
  });
});
