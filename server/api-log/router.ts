import { createTRPCRouter, merchantProcedure } from "@/server/trpc/init";
import { getApiRequest, listApiRequests, ZGetApiRequestInput, ZListApiRequestsInput } from "./list";

// Developers → API requests. Viewers read (bodies are stored redacted); another merchant's row is NOT_FOUND.
export const apiLogRouter = createTRPCRouter({
  list: merchantProcedure("merchant_viewer")
    .input(ZListApiRequestsInput)
    .query(({ ctx, input }) => listApiRequests(ctx.db, ctx.merchant.id, input)),
  get: merchantProcedure("merchant_viewer")
    .input(ZGetApiRequestInput)
    .query(({ ctx, input }) => getApiRequest(ctx.db, ctx.merchant.id, input.id)),
});
