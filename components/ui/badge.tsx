import type { ReactNode } from "react";
import { cn } from "./cn";

export type BadgeTone = "neutral" | "success" | "warning" | "danger" | "info";

const TONES: Record<BadgeTone, string> = {
  neutral: "bg-slate-100 text-slate-700 ring-slate-500/20",
  success: "bg-green-50 text-green-800 ring-green-600/20",
  warning: "bg-amber-50 text-amber-800 ring-amber-600/20",
  danger: "bg-red-50 text-red-800 ring-red-600/20",
  info: "bg-blue-50 text-blue-800 ring-blue-600/20",
};

export function Badge({ tone = "neutral", children, className, ...rest }: { tone?: BadgeTone; children: ReactNode; className?: string } & Record<`data-${string}`, string | undefined>) {
  return (
    <span className={cn("inline-flex items-center rounded-md px-2 py-0.5 text-xs font-medium whitespace-nowrap ring-1 ring-inset", TONES[tone], className)} {...rest}>
      {children}
    </span>
  );
}
