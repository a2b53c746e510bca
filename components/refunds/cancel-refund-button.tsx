"use client";

import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { useTRPC } from "@/components/trpc/react";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";

/** Cancels a refund the PSP still holds (pending / action required), after a confirm. Admins only. */
export function CancelRefundButton({ refundId }: { refundId: string }) {
  const trpc = useTRPC();
  const router = useRouter();
  const [open, setOpen] = useState(false);
  const cancel = useMutation(trpc.refunds.cancel.mutationOptions({ onSuccess: () => (setOpen(false), router.refresh()) }));
  return (
    <Dialog
      open={open}
      onOpenChange={(next) => {
        setOpen(next);
        if (next) cancel.reset();
      }}
      trigger={
        <Button variant="ghost" size="sm" aria-label={`Cancel refund ${refundId}`}>
          Cancel
        </Button>
      }
      title="Cancel this refund?"
      description="The PSP has not paid it out yet. Canceling gives the amount back to the seller's balance."
    >
      {cancel.error ? (
        <p role="alert" className="mb-3 text-sm text-red-700">
          {cancel.error.message}
        </p>
      ) : null}
      <div className="flex justify-end gap-2">
        <Button variant="ghost" onClick={() => setOpen(false)} disabled={cancel.isPending}>
          Keep it
        </Button>
        <Button variant="danger" onClick={() => cancel.mutate({ refundId })} disabled={cancel.isPending}>
          {cancel.isPending ? "Canceling…" : "Cancel the refund"}
        </Button>
      </div>
    </Dialog>
  );
}
