import { and, eq, inArray, sql } from "drizzle-orm";
import type { Db, Tx } from "@/db/client";
import { PG_UNIQUE_VIOLATION, pgErrorCode } from "@/db/pg-errors";
import { newId } from "@/db/ids";
import { checkouts, paymentOrders, paymentOrderTransitions, sellers } from "@/db/schema";
import { encryptJson, lookupHash } from "@/server/crypto/field";
import { env } from "@/server/env.js";
import { AppError } from "@/server/errors";
import { finishIdempotentRequest, type IdempotencyRef } from "@/server/idempotency/idempotency";
import { parseMoney, sumMoney, type CurrencyCode } from "@/server/money";
import { evaluateRisk, loadRiskRules } from "@/server/risk/evaluate-risk";
import type { TCreateCheckoutInput } from "./create-checkout.schema";
import { presentCheckout, type CheckoutView } from "./present";
import { checkoutCreatedInsert, transitionCheckout } from "./checkout-state";
import { failCheckoutOrders } from "./state-machine";

// Creates a checkout (payment event) with one payment order per seller, after a risk check, in ONE
// transaction: checkout + orders + their first transitions + the risk decision + the idempotency
// record's stored response. A crash before commit leaves nothing (the retry starts over); after commit
// the retry replays the stored response. Blocked checkouts are recorded (orders FAILED) and never reach a PSP.


export function checkoutUrl(checkoutId: string): string {
  return `${env.APP_URL}/pay/${checkoutId}`;
}

async function resolveSellers(tx: Tx, merchantId: string, input: TCreateCheckoutInput): Promise<Map<string, string>> {
  const refs = input.payment_orders.map((o) => o.seller_account);
  const rows = await tx
    .select({ id: sellers.id, reference: sellers.reference })
    .from(sellers)
    .where(and(eq(sellers.merchantId, merchantId), inArray(sellers.reference, refs)));
  const byRef = new Map(rows.map((r) => [r.reference, r.id]));
  const fields = input.payment_orders.flatMap((o, i) =>
    byRef.has(o.seller_account) ? [] : [{ path: `payment_orders[${i}].seller_account`, message: `no seller with seller_account "${o.seller_account}"` }],
  );
  // After the Idempotency-Key is taken: the refusal is the key's stored answer (request_rejected, not validation_failed).
  if (fields.length > 0) throw new AppError("request_rejected", fields.map((f) => `${f.path}: ${f.message}`).join("; "), { details: { fields } });
  return byRef;
}

async function insertCheckout(tx: Tx, merchantId: string, input: TCreateCheckoutInput): Promise<CheckoutView> {
  // Independent reads sent together (pipelined on the transaction's connection): the sellers and the risk rules.
  const [sellerIds, rules] = await Promise.all([resolveSellers(tx, merchantId, input), loadRiskRules(tx, merchantId)]);
  const currency = input.payment_orders[0]!.currency as CurrencyCode;
  const amounts = input.payment_orders.map((o) => parseMoney(o.amount, o.currency));
  const total = sumMoney(amounts, currency);
  const buyer = input.buyer_info;
  // The ids are made here (they are ours, not the database's), so the four inserts need nothing back from each other:
  // they go as ONE statement, the first three as data-modifying CTEs of the last. Postgres checks the foreign keys at
  // the end of the statement, when all four rows are in (a missing seller or a duplicate payment_order_id still fails
  // it whole). One round trip instead of four.
  const checkoutId = newId("chk");
  const orderRows = input.payment_orders.map((o, i) => ({
    id: newId("po"),
    paymentOrderId: o.payment_order_id,
    merchantId,
    checkoutId,
    sellerId: sellerIds.get(o.seller_account)!,
    amount: amounts[i]!.amount,
    currency,
    // The merchant's order of the orders: the hosted checkout lists its sellers so.
    position: i,
  }));
  const ctes = [
    tx.insert(checkouts).values({
      id: checkoutId,
      merchantId,
      currency,
      totalAmount: total.amount,
      buyerInfoEncrypted: encryptJson(buyer),
      buyerEmailHash: lookupHash(buyer.email),
      buyerIp: buyer.ip ?? null,
      buyerCountry: buyer.country ?? null,
      returnUrl: input.return_url,
      metadata: input.metadata ?? {},
    }),
    tx.insert(paymentOrders).values(orderRows),
    tx.insert(paymentOrderTransitions).values(orderRows.map((o) => ({ paymentOrderId: o.id, fromStatus: null, toStatus: "NOT_STARTED" as const, reason: "created" }))),
  ];
  const withs = sql.join(
    ctes.map((q, i) => sql`${sql.raw(`created_${i}`)} as (${q.getSQL()})`),
    sql`, `,
  );
  await tx.execute(sql`with ${withs} ${checkoutCreatedInsert(tx, checkoutId).getSQL()}`);

  const risk = await evaluateRisk(tx, {
    merchantId,
    checkoutId,
    currency,
    totalAmount: total.amount,
    email: buyer.email,
    ip: buyer.ip,
    country: buyer.country,
  }, rules);
  if (risk.outcome !== "allow") {
    const to = risk.outcome === "block" ? "blocked" : "review";
    await transitionCheckout(tx, { checkoutId, to, reason: to === "blocked" ? "risk_blocked" : "risk_review", data: { decisionId: risk.decisionId } });
  }
  if (risk.outcome === "block") {
    await failCheckoutOrders(tx, checkoutId, { from: ["NOT_STARTED"], reason: "risk_blocked", data: { decisionId: risk.decisionId }, failure: { code: "risk_blocked", message: "Blocked by risk rules" } });
  }
  return presentCheckout(tx, checkoutId);
}


export async function createCheckout(
  db: Db,
  opts: { merchantId: string; input: TCreateCheckoutInput; idempotency?: IdempotencyRef },
): Promise<{ status: number; body: CheckoutView }> {
  try {
    return await db.transaction(async (tx) => {
      const body = await insertCheckout(tx, opts.merchantId, opts.input);
      const response = { status: 201, body };
      if (opts.idempotency) await finishIdempotentRequest(tx, opts.idempotency, response);
      return response;
    });
  } catch (err) {
    if (pgErrorCode(err) === PG_UNIQUE_VIOLATION) {
      throw new AppError("duplicate_payment_order", "A payment order with one of these payment_order_id values already exists", { cause: err });
    }
    throw err;
  }
}
