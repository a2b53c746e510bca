import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@/server/trpc/root";

// The payouts procedures' outputs as the dashboard reads them (server/payouts/router.ts).
type Out = inferRouterOutputs<AppRouter>["payouts"];
export type PayoutRowData = Out["list"]["items"][number];
export type PayoutDetailData = Out["get"];
export type SellerPayoutData = Out["seller"];
export type SellerBalance = SellerPayoutData["balances"][number];
