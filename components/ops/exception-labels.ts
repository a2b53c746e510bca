import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@/server/trpc/root";

// Labels and filter values of the ops exceptions queue (/ops/exceptions), shared by its server page and its
// client components. Types only from the router: nothing server-side reaches the browser bundle.

type ListInput = NonNullable<inferRouterInputs<AppRouter>["ops"]["exceptions"]["list"]>;
export type ExceptionItem = inferRouterOutputs<AppRouter>["ops"]["exceptions"]["list"]["items"][number];
export type ExceptionStatusFilter = NonNullable<ListInput["status"]>;
export type ExceptionKind = ExceptionItem["kind"];
export type ExceptionStatus = ExceptionItem["status"];
export type ExceptionReason = ExceptionItem["reason"];

/** What the list shows when the URL names no status. */
export const DEFAULT_STATUS_FILTER: ExceptionStatusFilter = "open";
/** Longest search text the page passes on (longer is cut): the router's limit. */
export { EXCEPTION_SEARCH_MAX } from "@/server/exceptions/limits";

export const STATUS_FILTER_LABELS: Record<ExceptionStatusFilter, string> = {
  open: "Open",
  retrying: "Retrying",
  resolved: "Resolved",
  ignored: "Ignored",
  all: "All",
};

export const KIND_LABELS: Record<ExceptionKind, string> = {
  payment_attempt: "Payment attempt",
  payment_cancel: "Payment cancel",
  psp_event: "PSP event",
  merchant_webhook: "Merchant webhook",
  refund: "Refund",
  payout: "Payout",
  job: "Job",
};

export const REASON_LABELS: Record<ExceptionReason, string> = {
  run_failed: "Run failed",
  retries_exhausted: "Retries exhausted",
  outcome_unknown: "Outcome unknown",
  double_charge: "Double charge",
  amount_mismatch: "Amount mismatch",
  stuck: "Stuck past its deadline",
  cancelled: "Cancelled",
};

export const STATUS_STYLES: Record<ExceptionStatus, string> = {
  open: "bg-red-50 text-red-800 ring-red-600/20",
  retrying: "bg-amber-50 text-amber-800 ring-amber-600/20",
  resolved: "bg-green-50 text-green-800 ring-green-600/20",
  ignored: "bg-slate-50 text-slate-700 ring-slate-500/20",
};

export function isStatusFilter(v: unknown): v is ExceptionStatusFilter {
  return typeof v === "string" && Object.hasOwn(STATUS_FILTER_LABELS, v);
}
export function isKind(v: unknown): v is ExceptionKind {
  return typeof v === "string" && Object.hasOwn(KIND_LABELS, v);
}

