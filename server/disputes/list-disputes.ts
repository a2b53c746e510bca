// STUB (lead): the disputes helper replaces this file.
import type { DbOrTx } from "@/db/client";
import type { DisputePage, DisputeView, ListDisputesInput } from "./types";

export async function getDisputeView(_db: DbOrTx, _merchantId: string, _disputeId: string): Promise<DisputeView> {
  throw new Error("not implemented yet (issue 12: being built)");
}

export async function listDisputes(_db: DbOrTx, _merchantId: string, _input: ListDisputesInput): Promise<DisputePage> {
  throw new Error("not implemented yet (issue 12: being built)");
}

/** Reminders not dismissed, of disputes still needing a response: the dashboard notice. */
export async function listDisputeNotices(_db: DbOrTx, _merchantId: string): Promise<{ reminderId: string; disputeId: string; kind: "72h" | "24h"; dueBy: Date; amount: string; currency: string }[]> {
  throw new Error("not implemented yet (issue 12: being built)");
}
