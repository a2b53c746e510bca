// STUB (lead): the disputes helper replaces this file.
import type { Db } from "@/db/client";
import type { ConnectorFor } from "@/server/psp";
import type { PspName } from "@/server/psp/types";
import type { Dispute } from "./types";

/** Fetches the dispute from the PSP and applies it (create, status, withdrawal / reinstatement postings, events). */
export async function syncDispute(_db: Db, _connectorFor: ConnectorFor, _input: { psp: PspName; pspDisputeId: string }): Promise<Dispute | null> {
  throw new Error("not implemented yet (issue 12: being built)");
}
