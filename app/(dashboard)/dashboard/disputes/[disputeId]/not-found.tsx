import { DisputeNotFound } from "@/components/disputes/dispute-not-found";

export default function DisputeDetailNotFound() {
  return <DisputeNotFound />;
}
