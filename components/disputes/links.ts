/** A dispute page of the dashboard. */
export const disputeHref = (id: string) => `/dashboard/disputes/${encodeURIComponent(id)}`;
