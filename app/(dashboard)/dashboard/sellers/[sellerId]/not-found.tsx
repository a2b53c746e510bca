import { PayoutsNotFound } from "@/components/payouts/not-found";

export default function SellerDetailNotFound() {
  return <PayoutsNotFound what="seller" />;
}
