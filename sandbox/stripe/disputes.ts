// Disputes as Stripe's test mode plays them:
//   4000000000000259 (pm_card_createDispute) / 2685 (…ProductNotReceived): a chargeback shortly after the charge:
//     needs_response, the amount and a 1500 fee withdrawn (a balance transaction), events charge.dispute.created
//     then charge.dispute.funds_withdrawn;
//   4000000000001976 (pm_card_createDisputeInquiry): an inquiry, warning_needs_response, nothing withdrawn.
// POST /v1/disputes/:id merges evidence (and metadata); with submit (the default) it is submitted once:
// under_review / warning_under_review. The outcome follows the evidence text, after asyncSettleMs:
// `winning_evidence` -> won (amount and fee reinstated: charge.dispute.funds_reinstated) / an inquiry closes
// (warning_closed); `losing_evidence` -> lost / an inquiry escalates to a chargeback (needs_response, funds
// withdrawn); neither -> it stays under review. POST /v1/disputes/:id/close accepts the loss (lost, or
// warning_closed for an inquiry). At evidence_details.due_by on the sandbox clock a dispute not submitted is
// closed (lost / warning_closed, past_due), or its saved evidence is submitted, as Stripe does; checked when
// the clock is advanced and on every read.
// The dispute keeps its balance transactions' ids; `balance_transactions` is refreshed from them (full objects,
// as Stripe sends them) before the dispute leaves the sandbox.
import { StripeApiError, stripeNotFound, type SandboxRequest } from "../http";
import { addBalanceTransaction, refreshStatus } from "./balance";
import type { CardBehavior } from "./cards";
import { metadataParam, type StripeCtx } from "./context";
import { publicView, stripeId, type StripeObject } from "./store";

export const DISPUTE_FEE = 1500;
/** Stripe test mode: evidence is due a week after the dispute opens. */
export const EVIDENCE_DUE_S = 7 * 86_400;
/** Stripe: at most 20,000 characters per evidence text field. */
export const EVIDENCE_TEXT_MAX = 20_000;

export const EVIDENCE_FILE_FIELDS = ["cancellation_policy", "customer_communication", "customer_signature", "duplicate_charge_documentation", "receipt", "refund_policy", "service_documentation", "shipping_documentation", "uncategorized_file"] as const;
export const EVIDENCE_TEXT_FIELDS = ["access_activity_log", "billing_address", "cancellation_policy_disclosure", "cancellation_rebuttal", "customer_email_address", "customer_name", "customer_purchase_ip", "duplicate_charge_explanation", "duplicate_charge_id", "product_description", "refund_policy_disclosure", "refund_refusal_explanation", "service_date", "shipping_address", "shipping_carrier", "shipping_date", "shipping_tracking_number", "uncategorized_text"] as const;
const EVIDENCE_FIELDS = [...EVIDENCE_FILE_FIELDS, ...EVIDENCE_TEXT_FIELDS].sort();
const UPDATE_PARAMS = new Set(["evidence", "metadata", "submit", "expand"]);

const OPEN = ["needs_response", "warning_needs_response"];
const REVIEW = ["under_review", "warning_under_review"];
const CLOSED = ["won", "lost", "warning_closed"];
/** A refund is refused while a chargeback is open or lost (an inquiry or a won dispute allows it). */
const BLOCKS_REFUND = ["needs_response", "under_review", "lost"];

const NETWORK_REASON: Record<string, string> = { fraudulent: "10.4", product_not_received: "13.1" };

function emptyEvidence(): Record<string, unknown> {
  const e: Record<string, unknown> = {};
  for (const f of EVIDENCE_FIELDS) e[f] = null;
  e.enhanced_evidence = {};
  return e;
}

export function chargeRefundBlocked(ctx: StripeCtx, ch: StripeObject): StripeObject | undefined {
  return ctx.store.all("dispute").find((d) => d.charge === ch.id && BLOCKS_REFUND.includes(d.status as string));
}

/** Schedules the dispute a disputing test card makes (called when its charge succeeds). */
export function scheduleDispute(ctx: StripeCtx, ch: StripeObject, behavior: CardBehavior): void {
  if (behavior.kind !== "succeed" || !behavior.dispute) return;
  const reason = behavior.dispute;
  const inquiry = behavior.inquiry === true;
  const chargeId = ch.id;
  ctx.later(ctx.disputeDelayMs, () => {
    const charge = ctx.store.get(chargeId, "charge");
    if (charge) openDispute(ctx, charge, reason, inquiry);
  });
}

export function openDispute(ctx: StripeCtx, ch: StripeObject, reason: string, inquiry: boolean): StripeObject {
  const now = ctx.store.nowS();
  const card = (ch.payment_method_details as { card?: { brand?: string } } | undefined)?.card;
  const dp = ctx.store.put({
    id: stripeId("dp"),
    object: "dispute",
    amount: ch.amount_captured,
    balance_transactions: [] as unknown[],
    charge: ch.id,
    created: now,
    currency: ch.currency,
    enhanced_eligibility_types: [] as string[],
    evidence: emptyEvidence(),
    evidence_details: { due_by: now + EVIDENCE_DUE_S, enhanced_eligibility: {}, has_evidence: false, past_due: false, submission_count: 0 },
    is_charge_refundable: inquiry,
    livemode: false,
    metadata: {},
    payment_intent: ch.payment_intent ?? null,
    payment_method_details: { card: { brand: card?.brand ?? "visa", case_type: inquiry ? "inquiry" : "chargeback", network_reason_code: NETWORK_REASON[reason] ?? "10.4" }, type: "card" },
    reason,
    status: inquiry ? "warning_needs_response" : "needs_response",
    _balance_transaction_ids: [] as string[],
  });
  ch.disputed = true;
  ctx.store.touch(ch);
  ctx.emit(undefined, "charge.dispute.created", refreshDispute(ctx, dp));
  if (!inquiry) withdraw(ctx, dp);
  return dp;
}

function withdraw(ctx: StripeCtx, dp: StripeObject): void {
  const txn = addBalanceTransaction(ctx, { amount: -(dp.amount as number), currency: dp.currency as string, fee: DISPUTE_FEE, type: "adjustment", reportingCategory: "dispute", source: dp.id, description: `Chargeback withdrawal for ${String(dp.charge)}` });
  txn.fee_details = [{ amount: DISPUTE_FEE, application: null, currency: dp.currency, description: "Dispute fee", type: "stripe_fee" }];
  (dp._balance_transaction_ids as string[]).push(txn.id);
  ctx.emit(undefined, "charge.dispute.funds_withdrawn", refreshDispute(ctx, dp));
}

function reinstate(ctx: StripeCtx, dp: StripeObject): void {
  const txn = addBalanceTransaction(ctx, { amount: dp.amount as number, currency: dp.currency as string, fee: -DISPUTE_FEE, type: "adjustment", reportingCategory: "dispute_reversal", source: dp.id, description: `Chargeback reversal for ${String(dp.charge)}` });
  txn.fee_details = [{ amount: -DISPUTE_FEE, application: null, currency: dp.currency, description: "Dispute fee refund", type: "stripe_fee" }];
  (dp._balance_transaction_ids as string[]).push(txn.id);
  ctx.emit(undefined, "charge.dispute.funds_reinstated", refreshDispute(ctx, dp));
}

/** Fills `balance_transactions` with the current objects (their status follows the clock). */
export function refreshDispute(ctx: StripeCtx, dp: StripeObject): StripeObject {
  // Disputes stored before the ids were kept separately listed the ids themselves.
  if (!Array.isArray(dp._balance_transaction_ids)) dp._balance_transaction_ids = (dp.balance_transactions as unknown[]).filter((x): x is string => typeof x === "string");
  dp.balance_transactions = (dp._balance_transaction_ids as string[])
    .map((id) => ctx.store.objects.peek(id))
    .filter((t): t is StripeObject => t !== undefined)
    .map((t) => publicView(refreshStatus(ctx, t)));
  return dp;
}

/** Closes (or auto-submits) every open dispute whose due_by the sandbox clock passed. */
export function expireDisputes(ctx: StripeCtx): void {
  const now = ctx.store.nowS();
  for (const dp of ctx.store.all("dispute")) {
    const details = dp.evidence_details as { due_by: number | null; has_evidence: boolean };
    if (!OPEN.includes(dp.status as string) || details.due_by === null || details.due_by > now) continue;
    ctx.store.touch(dp);
    if (details.has_evidence) submit(ctx, undefined, dp);
    else close(ctx, undefined, dp, true);
  }
}

export function getDispute(ctx: StripeCtx, id: string): StripeObject {
  expireDisputes(ctx);
  const dp = ctx.store.get(id, "dispute");
  if (!dp) throw stripeNotFound("dispute", id);
  return refreshDispute(ctx, dp);
}

export function listDisputes(ctx: StripeCtx, query: Record<string, unknown>): StripeObject[] {
  expireDisputes(ctx);
  return ctx.store
    .all("dispute")
    .filter((d) => (!query.charge || d.charge === query.charge) && (!query.payment_intent || d.payment_intent === query.payment_intent))
    .map((d) => refreshDispute(ctx, d));
}

function notOpen(dp: StripeObject): StripeApiError {
  const status = dp.status as string;
  if (CLOSED.includes(status)) return new StripeApiError(400, "invalid_request_error", undefined, `This dispute is already closed (status ${status}).`);
  return new StripeApiError(400, "invalid_request_error", undefined, `This dispute has already been submitted and is under review; its evidence can no longer be changed (status ${status}).`);
}

function evidenceParam(ctx: StripeCtx, body: Record<string, unknown>): Record<string, string | null> {
  const raw = body.evidence;
  if (raw === undefined || raw === "") return {};
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new StripeApiError(400, "invalid_request_error", "parameter_invalid_object", "Invalid object", { param: "evidence" });
  const out: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    const param = `evidence[${k}]`;
    if (!(EVIDENCE_FIELDS as string[]).includes(k)) throw new StripeApiError(400, "invalid_request_error", "parameter_unknown", `Received unknown parameter: ${param}`, { param });
    if (typeof v !== "string") throw new StripeApiError(400, "invalid_request_error", "parameter_invalid_string", `Invalid string: ${param}`, { param });
    if (v === "") {
      out[k] = null;
      continue;
    }
    if ((EVIDENCE_FILE_FIELDS as readonly string[]).includes(k)) {
      const file = ctx.store.get(v, "file");
      if (!file) throw new StripeApiError(400, "invalid_request_error", "resource_missing", `No such file upload: '${v}'`, { param });
      if (file.purpose !== "dispute_evidence") throw new StripeApiError(400, "invalid_request_error", "parameter_invalid", `The file ${v} was not uploaded with purpose dispute_evidence.`, { param });
    } else if (v.length > EVIDENCE_TEXT_MAX) {
      throw new StripeApiError(400, "invalid_request_error", "parameter_invalid_string", `Invalid ${param}: must be at most ${EVIDENCE_TEXT_MAX} characters`, { param });
    }
    out[k] = v;
  }
  return out;
}

export function updateDispute(ctx: StripeCtx, req: SandboxRequest, id: string): StripeObject {
  const dp = getDispute(ctx, id);
  const unknown = Object.keys(req.body).find((k) => !UPDATE_PARAMS.has(k));
  if (unknown) throw new StripeApiError(400, "invalid_request_error", "parameter_unknown", `Received unknown parameter: ${unknown}`, { param: unknown });
  const submitParam = req.body.submit;
  if (submitParam !== undefined && submitParam !== "true" && submitParam !== "false") throw new StripeApiError(400, "invalid_request_error", "parameter_invalid_boolean", `Invalid boolean: ${String(submitParam)}`, { param: "submit" });
  const evidence = evidenceParam(ctx, req.body);
  const changesEvidence = Object.keys(evidence).length > 0;
  const doSubmit = submitParam !== "false";
  if ((changesEvidence || doSubmit) && !OPEN.includes(dp.status as string)) throw notOpen(dp);
  const previous: Record<string, unknown> = {};
  if (changesEvidence) {
    previous.evidence = structuredClone(dp.evidence);
    previous.evidence_details = structuredClone(dp.evidence_details);
    Object.assign(dp.evidence as Record<string, unknown>, evidence);
    const details = dp.evidence_details as { has_evidence: boolean };
    details.has_evidence = EVIDENCE_FIELDS.some((f) => (dp.evidence as Record<string, unknown>)[f] !== null);
  }
  if (req.body.metadata !== undefined) {
    previous.metadata = dp.metadata;
    dp.metadata = metadataParam(req.body, dp.metadata as Record<string, string>);
  }
  if (doSubmit) submit(ctx, req, dp, previous);
  else if (Object.keys(previous).length) ctx.emit(req, "charge.dispute.updated", refreshDispute(ctx, dp), previous);
  return refreshDispute(ctx, dp);
}

/** Submits the evidence once: under review, then (after asyncSettleMs) the outcome the evidence text asks for. */
function submit(ctx: StripeCtx, req: SandboxRequest | undefined, dp: StripeObject, previous: Record<string, unknown> = {}): void {
  const details = dp.evidence_details as { submission_count: number; due_by: number | null; past_due: boolean };
  previous.evidence_details ??= structuredClone(details);
  previous.status = dp.status;
  dp.status = dp.status === "warning_needs_response" ? "warning_under_review" : "under_review";
  details.submission_count += 1;
  if (details.due_by !== null && details.due_by <= ctx.store.nowS()) details.past_due = true; // submitted at due_by by the clock
  ctx.emit(req, "charge.dispute.updated", refreshDispute(ctx, dp), previous);
  const id = dp.id;
  ctx.later(ctx.asyncSettleMs, () => decide(ctx, id));
}

function decide(ctx: StripeCtx, id: string): void {
  const dp = ctx.store.get(id, "dispute");
  if (!dp || !REVIEW.includes(dp.status as string)) return;
  const text = Object.values(dp.evidence as Record<string, unknown>).filter((v): v is string => typeof v === "string");
  const outcome = text.some((t) => t.includes("winning_evidence")) ? "won" : text.some((t) => t.includes("losing_evidence")) ? "lost" : undefined;
  if (!outcome) return; // stays under review, as Stripe's test mode does without either word
  const previous = { status: dp.status };
  if (dp.status === "warning_under_review") {
    if (outcome === "won") {
      dp.status = "warning_closed";
      ctx.emit(undefined, "charge.dispute.closed", refreshDispute(ctx, dp), previous);
      return;
    }
    // A lost inquiry escalates to a chargeback: a new response window and the funds withdrawn.
    Object.assign(dp, { status: "needs_response", is_charge_refundable: false });
    (dp.payment_method_details as { card: { case_type: string } }).card.case_type = "chargeback";
    const details = dp.evidence_details as { due_by: number | null };
    details.due_by = ctx.store.nowS() + EVIDENCE_DUE_S;
    ctx.emit(undefined, "charge.dispute.updated", refreshDispute(ctx, dp), previous);
    withdraw(ctx, dp);
    return;
  }
  dp.status = outcome;
  if (outcome === "won") reinstate(ctx, dp);
  ctx.emit(undefined, "charge.dispute.closed", refreshDispute(ctx, dp), previous);
}

export function closeDispute(ctx: StripeCtx, req: SandboxRequest, id: string): StripeObject {
  const dp = getDispute(ctx, id);
  if (!OPEN.includes(dp.status as string)) throw notOpen(dp);
  close(ctx, req, dp, false);
  return refreshDispute(ctx, dp);
}

/** Accepted (close) or past due: lost, or warning_closed for an inquiry. */
function close(ctx: StripeCtx, req: SandboxRequest | undefined, dp: StripeObject, pastDue: boolean): void {
  const previous: Record<string, unknown> = { status: dp.status };
  dp.status = dp.status === "warning_needs_response" ? "warning_closed" : "lost";
  if (pastDue) {
    const details = dp.evidence_details as { past_due: boolean };
    previous.evidence_details = structuredClone(details);
    details.past_due = true;
  }
  ctx.emit(req, "charge.dispute.closed", refreshDispute(ctx, dp), previous);
}
