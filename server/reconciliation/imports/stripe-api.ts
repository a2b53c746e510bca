// Stripe balance transactions through the SDK (the app's connector, each page a recorded call): a `created`
// window, a payout's (`?payout=`), or one object's (`?source=`, the case re-query). Each page's rows and the cursor
// after it commit in one transaction, so a crashed or failed import with the same key resumes after its cursor.
import type Stripe from "stripe";
import type { Db } from "@/db/client";
import type { SettlementCategory } from "@/db/schema";
import { AppError } from "@/server/errors";
import { createStripeConnector } from "@/server/psp";
import type { StripeConnector } from "@/server/psp/stripe/connector";
import type { ImportResult, ParsedSettlementRow } from "../types";
import { advanceImport, beginImport, failImport, finishImport, lockImport } from "./record";
import { insertSettlementRows, integerMinor, readCurrency, STRIPE_CATEGORIES } from "./rows";

const SOURCE = "stripe_api" as const;
/** Stripe's largest page. */
export const STRIPE_IMPORT_PAGE_SIZE = 100;
/** Pages read at most by one run (2,000,000 rows); a longer window fails rather than loop for ever. */
export const STRIPE_IMPORT_PAGES_MAX = 20_000;

export interface StripeImportDeps {
  /** The connector to read through (tests: one on the sandbox); default createStripeConnector(db). */
  stripe?: StripeConnector;
  pageSize?: number;
}

export interface StripeQuery {
  createdGte?: number;
  createdLt?: number;
  payout?: string;
  source?: string;
  stripeAccount?: string;
}

const BY_TYPE: Readonly<Record<string, SettlementCategory>> = {
  charge: "charge",
  refund: "refund",
  refund_failure: "refund_failure",
  transfer: "transfer",
  transfer_cancel: "transfer_reversal",
  transfer_refund: "transfer_reversal",
  payout: "payout",
  payout_cancel: "payout_failure",
  payout_failure: "payout_failure",
};

const idOf = (v: unknown): string | null => (typeof v === "string" ? v : v && typeof v === "object" && typeof (v as { id?: unknown }).id === "string" ? (v as { id: string }).id : null);

/** One balance transaction -> a settlement row: charge by its PaymentIntent, anything else by its source. */
export function balanceTransactionToSettlementRow(bt: Stripe.BalanceTransaction, payoutId: string | null = null): ParsedSettlementRow {
  const at = (column: string) => ({ line: `balance transaction ${bt.id}`, column });
  const sourceId = idOf(bt.source);
  const category = bt.type === "adjustment" ? (STRIPE_CATEGORIES[bt.reporting_category] === "dispute" ? "dispute" : "other") : (BY_TYPE[bt.type] ?? STRIPE_CATEGORIES[bt.reporting_category] ?? "other");
  const paymentIntent = category === "charge" && bt.source && typeof bt.source === "object" ? idOf((bt.source as { payment_intent?: unknown }).payment_intent) : null;
  return {
    psp: "stripe",
    pspRowId: bt.id,
    category,
    reference: paymentIntent ?? sourceId ?? bt.id,
    sourceId,
    currency: readCurrency(bt.currency, at("currency")),
    gross: integerMinor(bt.amount, at("amount")),
    fee: integerMinor(bt.fee, at("fee")),
    net: integerMinor(bt.net, at("net")),
    occurredAt: new Date(integerSeconds(bt.created, at("created")) * 1000),
    availableOn: bt.available_on ? new Date(integerSeconds(bt.available_on, at("available_on")) * 1000) : null,
    payoutId,
  };
}

function integerSeconds(v: unknown, at: { line: string; column: string }): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v)) throw new AppError("validation_failed", `${at.line}, field ${at.column}: ${JSON.stringify(v)} is not a Unix time`);
  return v;
}

export interface PageStep {
  cursor: string | null;
  hasMore: boolean;
  rowsSeen: number;
  rowsAdded: number;
}

/**
 * Reads the page after `cursor` and commits its rows with the next cursor in one transaction. If another runner
 * of the same import committed this page meanwhile (the stored cursor moved), adds nothing and follows it.
 */
export async function importStripePage(db: Db, importId: string, q: StripeQuery, cursor: string | null, deps: StripeImportDeps = {}): Promise<PageStep> {
  const stripe = deps.stripe ?? createStripeConnector(db);
  const page = await stripe.listBalanceTransactions({ ...q, startingAfter: cursor ?? undefined, limit: deps.pageSize ?? STRIPE_IMPORT_PAGE_SIZE });
  const rows = page.data.map((bt) => balanceTransactionToSettlementRow(bt, q.payout ?? null));
  const next = page.data.at(-1)?.id ?? cursor;
  return db.transaction(async (tx) => {
    const stored = await lockImport(tx, importId);
    if (stored.cursor !== cursor) return { cursor: stored.cursor, hasMore: true, rowsSeen: 0, rowsAdded: 0 };
    const rowsAdded = await insertSettlementRows(tx, importId, rows);
    await advanceImport(tx, importId, { cursor: next, rowsSeen: rows.length, rowsAdded });
    return { cursor: next, hasMore: page.has_more && page.data.length > 0, rowsSeen: rows.length, rowsAdded };
  });
}

async function runImport(db: Db, key: string, label: string, q: StripeQuery, deps: StripeImportDeps, userId?: string | null): Promise<ImportResult> {
  const begun = await beginImport(db, { psp: "stripe", source: SOURCE, importKey: key, label, userId });
  if (begun.alreadyImported) return { importId: begun.id, source: SOURCE, alreadyImported: true, rowsSeen: begun.rowsSeen, rowsAdded: 0 };
  const stripe = deps.stripe ?? createStripeConnector(db);
  try {
    let cursor = begun.cursor;
    for (let i = 0; ; i++) {
      if (i >= STRIPE_IMPORT_PAGES_MAX) throw new AppError("internal", `stripe import ${key}: more than ${STRIPE_IMPORT_PAGES_MAX} pages; import a shorter window`);
      const step = await importStripePage(db, begun.id, q, cursor, { ...deps, stripe });
      cursor = step.cursor;
      if (!step.hasMore) break;
    }
    const totals = await finishImport(db, begun.id);
    return { importId: begun.id, source: SOURCE, alreadyImported: false, ...totals };
  } catch (err) {
    await failImport(db, begun.id, err);
    throw err;
  }
}

export interface StripeWindowInput {
  /** The window [from, to) of `created`; optional with payoutId (then all of the payout's rows). */
  from?: Date;
  to?: Date;
  payoutId?: string;
  /** A connected account (acct_…) whose balance transactions to read (a payout on it); default the platform. */
  stripeAccount?: string;
  userId?: string | null;
}

/** The import key (`stripe_api:<from>:<to>[:<payout>][:<account>]`), label and list query of a window. */
export function stripeWindow(input: StripeWindowInput): { key: string; label: string; query: StripeQuery } {
  if (!input.payoutId && (!input.from || !input.to)) throw new AppError("validation_failed", "a Stripe import needs a window (from, to) or a payout");
  if (input.from && input.to && !(input.from < input.to)) throw new AppError("validation_failed", "the import window's from must be before its to");
  const window = `${input.from?.toISOString() ?? ""}:${input.to?.toISOString() ?? ""}`;
  const key = `${SOURCE}:${window}${input.payoutId ? `:${input.payoutId}` : ""}${input.stripeAccount ? `:${input.stripeAccount}` : ""}`;
  const label = input.payoutId ? `Stripe payout ${input.payoutId}` : `Stripe ${input.from!.toISOString()} – ${input.to!.toISOString()}`;
  const query: StripeQuery = {
    createdGte: input.from ? Math.ceil(input.from.getTime() / 1000) : undefined,
    createdLt: input.to ? Math.ceil(input.to.getTime() / 1000) : undefined,
    payout: input.payoutId,
    stripeAccount: input.stripeAccount,
  };
  return { key, label, query };
}

/** Imports a window: a completed one is not read again; a failed or crashed one resumes after its cursor. */
export async function importStripeBalanceTransactions(db: Db, input: StripeWindowInput, deps: StripeImportDeps = {}): Promise<ImportResult> {
  const w = stripeWindow(input);
  return runImport(db, w.key, w.label, w.query, deps, input.userId);
}

/** The minute of a re-query: asking again within the same minute is the same import. */
const minuteOf = (d: Date) => d.toISOString().slice(0, 16);

/** Re-queries one object's rows (`?source=`), e.g. for a case: new facts are added, known rows add nothing. */
export async function importStripeSource(db: Db, input: { sourceId: string; userId?: string | null; now?: Date }, deps: StripeImportDeps = {}): Promise<ImportResult> {
  if (!/^[a-z]+_[A-Za-z0-9]+$/.test(input.sourceId)) throw new AppError("validation_failed", `not a Stripe object id: ${JSON.stringify(input.sourceId)}`);
  const key = `stripe_source:${input.sourceId}:${minuteOf(input.now ?? new Date())}`;
  const stripe = deps.stripe ?? createStripeConnector(db);
  // A charge's balance transaction has the charge (ch_…) as its source, not the PaymentIntent we hold.
  const source = input.sourceId.startsWith("pi_") ? (await stripe.getPaymentStatus({ pspReference: input.sourceId })).receipt : input.sourceId;
  if (!source) throw new AppError("not_found", `${input.sourceId} has no charge at Stripe`);
  return runImport(db, key, `Stripe re-query ${input.sourceId}`, { source }, { ...deps, stripe }, input.userId);
}
