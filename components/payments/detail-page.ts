import { TRPCError } from "@trpc/server";

// The payment detail pages' shared steps (dashboard and ops): the id from the path, and the read whose
// "there is no such payment here" answers (not_found, or an id that is not one: 400) become the page's not-found.

/** Path segments arrive percent-encoded or not depending on the client; an id never contains "%" itself. */
export function paymentDetailParam(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw; // Not valid percent-encoding: the procedure's input check refuses it (not found).
  }
}

/** null for NOT_FOUND / BAD_REQUEST; anything else (signed out, no role) propagates to forPage. */
export async function readPaymentDetail<T>(read: () => Promise<T>): Promise<T | null> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof TRPCError && (err.code === "NOT_FOUND" || err.code === "BAD_REQUEST")) return null;
    throw err;
  }
}
