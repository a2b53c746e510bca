// STUB (lead): the refunds helper replaces this file. Contract in server/refunds/index.ts and types.ts.
import type { Db } from "@/db/client";
import type { CreateRefundInput, Refund } from "./types";

export async function createRefund(_db: Db, _input: CreateRefundInput): Promise<Refund> {
  throw new Error("not implemented yet (issue 12: being built)");
}
