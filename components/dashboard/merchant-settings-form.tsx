"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { useTRPC } from "@/components/trpc/react";

export function MerchantSettingsForm({ name, canEdit }: { name: string; canEdit: boolean }) {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const [value, setValue] = useState(name);
  const update = useMutation(
    trpc.merchant.update.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries({ queryKey: trpc.merchant.me.queryKey() });
        router.refresh();
      },
    }),
  );
  const fieldError = update.error?.data?.zodError?.fieldErrors.name?.[0];
  return (
    <form
      className="flex max-w-md flex-col gap-3"
      onSubmit={(e) => {
        e.preventDefault();
        update.mutate({ name: value });
      }}
    >
      <label className="flex flex-col gap-1 text-sm font-medium">
        Business name
        <input
          name="name"
          value={value}
          onChange={(e) => setValue(e.target.value)}
          disabled={!canEdit}
          aria-invalid={fieldError ? true : undefined}
          className="rounded-md border border-slate-300 px-3 py-2 text-base font-normal disabled:bg-slate-100"
        />
      </label>
      {fieldError ? <p className="text-sm text-red-700">{fieldError}</p> : null}
      {update.error && !fieldError ? <p role="alert" className="text-sm text-red-700">{update.error.message}</p> : null}
      {update.isSuccess ? <p role="status" className="text-sm text-green-700">Saved.</p> : null}
      {canEdit ? (
        <button type="submit" disabled={update.isPending} className="self-start rounded-md bg-brand-600 px-4 py-2 font-medium text-white hover:bg-brand-700 disabled:opacity-60">
          {update.isPending ? "Saving…" : "Save"}
        </button>
      ) : (
        <p className="text-sm text-slate-500">Only merchant admins can change settings.</p>
      )}
    </form>
  );
}
