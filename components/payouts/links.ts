/** A payout's page of the dashboard. */
export const payoutHref = (id: string) => `/dashboard/payouts/${encodeURIComponent(id)}`;
/** A seller's page of the dashboard (balances, destination, schedule, request a payout). */
export const sellerHref = (id: string) => `/dashboard/sellers/${encodeURIComponent(id)}`;
/** The composition of a payout as CSV (session auth, merchant scoped). */
export const payoutItemsCsvHref = (id: string) => `/api/dashboard/payouts/${encodeURIComponent(id)}/items`;
