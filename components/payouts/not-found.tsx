import Link from "next/link";
import { buttonClasses } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/empty-state";

/** The branded not-found page of a payout or a seller (another merchant's id, an unknown or malformed one). */
export function PayoutsNotFound({ what }: { what: "payout" | "seller" }) {
  const back = what === "payout" ? { href: "/dashboard/payouts", label: "Back to payouts" } : { href: "/dashboard/sellers", label: "Back to sellers" };
  const title = what === "payout" ? "Payout not found" : "Seller not found";
  return (
    <div className="rounded-lg border border-slate-200 bg-white" data-testid={`${what}-not-found`}>
      <h2 className="sr-only">{title}</h2>
      <EmptyState
        title={title}
        description={`There is no ${what} with this id in this account. It may belong to another account you can switch to, or the link may be mistyped.`}
        action={
          <Link href={back.href} className={buttonClasses({ variant: "secondary", size: "sm" })}>
            {back.label}
          </Link>
        }
      />
    </div>
  );
}
