import type { AnyPgColumn, PgTable } from "drizzle-orm/pg-core";
import { checkouts, disputes, paymentAttempts, payoutDestinations, pspEvents, webhookEndpoints } from "@/db/schema";

// Every column that holds field-encryption envelopes (server/crypto/field.ts). A new encrypted column must be
// added here, or a key rotation leaves it under the old key and removing that key makes it unreadable
// (server/keys/encrypted-columns.test.ts scans for encryptField/encryptJson writers).

export interface EncryptedColumn {
  /** The table's name in progress reports and audit rows. */
  readonly name: string;
  readonly table: PgTable;
  readonly id: AnyPgColumn;
  readonly column: AnyPgColumn;
}

export const ENCRYPTED_COLUMNS: readonly EncryptedColumn[] = [
  { name: "checkouts.buyer_info_encrypted", table: checkouts, id: checkouts.id, column: checkouts.buyerInfoEncrypted },
  { name: "disputes.evidence_encrypted", table: disputes, id: disputes.id, column: disputes.evidenceEncrypted },
  { name: "payment_attempts.phone_encrypted", table: paymentAttempts, id: paymentAttempts.id, column: paymentAttempts.phoneEncrypted },
  { name: "payout_destinations.phone_encrypted", table: payoutDestinations, id: payoutDestinations.id, column: payoutDestinations.phoneEncrypted },
  { name: "psp_events.raw_body", table: pspEvents, id: pspEvents.id, column: pspEvents.rawBody },
  { name: "webhook_endpoints.secret_encrypted", table: webhookEndpoints, id: webhookEndpoints.id, column: webhookEndpoints.secretEncrypted },
];
