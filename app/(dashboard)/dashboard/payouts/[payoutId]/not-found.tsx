import { PayoutsNotFound } from "@/components/payouts/not-found";

export default function PayoutDetailNotFound() {
  return <PayoutsNotFound what="payout" />;
}
