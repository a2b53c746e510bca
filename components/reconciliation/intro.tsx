import Link from "next/link";

// What reconciliation is and how data arrives: the empty state of /ops/reconciliation before anything was imported.

export function ReconIntro() {
  return (
    <section className="rounded-lg border border-blue-200 bg-blue-50 px-4 py-3 text-sm text-blue-950" data-testid="recon-intro">
      <h2 className="font-semibold">Nothing reconciled yet</h2>
      <p className="mt-1">
        Reconciliation compares what the PSPs say they moved (their settlement data) with what PayBridge holds: payment attempts, refunds, payouts and their ledger
        transactions. Every disagreement becomes a case here, one per PSP reference, until it is resolved: by itself when a late row explains it, by an adjusting
        ledger entry that a second ops user approves, or accepted with a note.
      </p>
      <p className="mt-1">
        Data arrives three ways: Stripe balance transactions through the API on a schedule, a Stripe payout reconciliation report (CSV) uploaded below, and an M-Pesa
        statement (CSV) uploaded below. The matcher runs on a schedule and with <span className="font-medium">Run now</span>. See{" "}
        <Link className="underline" href="/ops/audit">
          the audit log
        </Link>{" "}
        for every resolution.
      </p>
    </section>
  );
}
