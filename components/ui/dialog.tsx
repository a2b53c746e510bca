"use client";

import { X } from "lucide-react";
import { Dialog as RadixDialog } from "radix-ui";
import type { ReactNode } from "react";

/**
 * A modal dialog on Radix (focus trapped and restored, Escape closes, title and description announced).
 * Controlled (`open` + `onOpenChange`) or with a `trigger` element.
 */
export function Dialog({ open, onOpenChange, trigger, title, description, children, wide = false }: { open?: boolean; onOpenChange?: (open: boolean) => void; trigger?: ReactNode; title: ReactNode; description?: ReactNode; children: ReactNode; wide?: boolean }) {
  return (
    <RadixDialog.Root open={open} onOpenChange={onOpenChange}>
      {trigger ? <RadixDialog.Trigger asChild>{trigger}</RadixDialog.Trigger> : null}
      <RadixDialog.Portal>
        <RadixDialog.Overlay className="fixed inset-0 z-40 bg-slate-900/40" />
        <RadixDialog.Content
          className={`fixed top-1/2 left-1/2 z-50 max-h-[90vh] w-[calc(100vw-2rem)] -translate-x-1/2 -translate-y-1/2 overflow-y-auto rounded-lg bg-white p-5 shadow-xl ${wide ? "max-w-3xl" : "max-w-lg"}`}
          {...(description ? {} : { "aria-describedby": undefined })}
        >
          <div className="mb-3 flex items-start justify-between gap-4">
            <RadixDialog.Title className="text-base font-semibold">{title}</RadixDialog.Title>
            <RadixDialog.Close className="rounded p-1 text-slate-600 hover:bg-slate-100" aria-label="Close">
              <X className="size-4" aria-hidden />
            </RadixDialog.Close>
          </div>
          {description ? <RadixDialog.Description className="mb-3 text-sm text-slate-600">{description}</RadixDialog.Description> : null}
          {children}
        </RadixDialog.Content>
      </RadixDialog.Portal>
    </RadixDialog.Root>
  );
}
