import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { paymentDetailParam, readPaymentDetail } from "@/components/payments/detail-page";
import { CaseDetailView } from "@/components/reconciliation/case-detail";
import { forPage } from "@/server/trpc/page-guard";
import { getOpsOverview, serverCaller } from "@/server/trpc/rsc";

export const metadata: Metadata = { title: "Reconciliation case" };

// One reconciliation case, by id. Unknown or malformed: not-found.tsx (404). The viewer's id decides what the four-eyes
// panel offers (the proposer of a pending adjustment cannot approve it; the server refuses it too).
export default async function OpsReconciliationCasePage({ params }: { params: Promise<{ caseId: string }> }) {
  const caseId = paymentDetailParam((await params).caseId);
  const [me, detail] = await forPage(async () => Promise.all([getOpsOverview(), readPaymentDetail(async () => (await serverCaller()).reconciliation.get({ caseId }))]));
  if (!detail) notFound();
  return <CaseDetailView initial={detail} viewerId={me.user.id} />;
}
