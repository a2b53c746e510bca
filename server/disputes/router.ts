import { z } from "zod";
import { getConnector } from "@/server/psp";
import { createTRPCRouter, merchantProcedure } from "@/server/trpc/init";
import { getDisputeDetail } from "./dashboard-detail";
import { ZDisputeIdValue, ZListDisputesInput, ZReminderIdValue, ZSubmitEvidenceInput } from "./dashboard.schema";
import { dismissDisputeNotice, listDisputeNotices, listDisputes } from "./list-disputes";
import { acceptDispute, submitDisputeEvidence } from "./respond";

// The dashboard's disputes (docs/dashboard.md "Disputes"): reads for any member, answers for admins. Thin: the
// domain is server/disputes (respond.ts holds the one-shot guard; every read is scoped to ctx.merchant.id).
export const disputesRouter = createTRPCRouter({
  list: merchantProcedure("merchant_viewer")
    .input(ZListDisputesInput)
    .query(({ ctx, input }) => listDisputes(ctx.db, ctx.merchant.id, input)),
  get: merchantProcedure("merchant_viewer")
    .input(z.object({ disputeId: ZDisputeIdValue }))
    .query(({ ctx, input }) => getDisputeDetail(ctx.db, ctx.merchant.id, input.disputeId)),
  /** Reminders (72 h / 24 h before due_by) not dismissed: the overview's notice. */
  notices: merchantProcedure("merchant_viewer").query(({ ctx }) => listDisputeNotices(ctx.db, ctx.merchant.id)),
  submitEvidence: merchantProcedure("merchant_admin")
    .input(ZSubmitEvidenceInput)
    .mutation(({ ctx, input }) => submitDisputeEvidence(ctx.db, ctx.connectorFor ?? getConnector, { merchantId: ctx.merchant.id, disputeId: input.disputeId, evidence: input.evidence, userId: ctx.userId })),
  accept: merchantProcedure("merchant_admin")
    .input(z.object({ disputeId: ZDisputeIdValue }))
    .mutation(({ ctx, input }) => acceptDispute(ctx.db, ctx.connectorFor ?? getConnector, { merchantId: ctx.merchant.id, disputeId: input.disputeId, userId: ctx.userId })),
  dismissNotice: merchantProcedure("merchant_admin")
    .input(z.object({ reminderId: ZReminderIdValue }))
    .mutation(({ ctx, input }) => dismissDisputeNotice(ctx.db, ctx.merchant.id, input.reminderId)),
});
