import Link from "next/link";
import { buttonClasses } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/empty-state";

export function DisputeNotFound() {
  return (
    <div className="rounded-lg border border-slate-200 bg-white" data-testid="dispute-not-found">
      <h2 className="sr-only">Dispute not found</h2>
      <EmptyState
        title="Dispute not found"
        description="There is no dispute with this id in this account. It may belong to another account you can switch to, or the link may be mistyped."
        action={
          <Link href="/dashboard/disputes" className={buttonClasses({ variant: "secondary", size: "sm" })}>
            Back to disputes
          </Link>
        }
      />
    </div>
  );
}
