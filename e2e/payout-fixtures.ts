import { expect } from "@playwright/test";
import { readFileSync } from "node:fs";
import postgres from "postgres";
import { createDb } from "../db/client";
import { newId } from "../db/ids";
import { E2E_STATE_FILE } from "../playwright.config";
import { env } from "../server/env.js";
import { getConnector } from "../server/psp";
import { requestManualPayout } from "../server/payouts/build";
import { setPayoutDestination } from "../server/payouts/destinations";
import { settleDueOrders } from "../server/payouts/settlement";

// Payout data for the e2e specs (payouts.spec.ts, pages.spec.ts), on the e2e server's own throwaway database and
// sandbox: a fresh seller of the demo merchant (so its balances start at zero), a real connected account at the
// sandbox, its destination's 24 h hold lifted (as if a day had passed), the seller's paid orders settled by the
// settlement job's own function, and a second admin for maker-checker.

interface E2eState {
  databaseUrl: string;
  sandboxUrl: string;
}

export function e2eState(): E2eState {
  const state = JSON.parse(readFileSync(E2E_STATE_FILE, "utf8")) as E2eState;
  expect(new URL(state.databaseUrl).hostname).toBe("127.0.0.1");
  expect(state.sandboxUrl, "the e2e server runs the PSP sandbox").toBeTruthy();
  return state;
}

async function withSql<T>(fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(e2eState().databaseUrl, { max: 1, onnotice: () => {} });
  try {
    return await fn(sql);
  } finally {
    await sql.end();
  }
}

/** A new seller of the demo merchant (its id is a real sel_ ULID), in KES. */
export async function createPayoutSeller(tag: string): Promise<{ id: string; reference: string; name: string }> {
  const suffix = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
  const seller = { id: newId("sel"), reference: `${tag}_${suffix}`, name: `Payout Seller ${suffix}` };
  await withSql((sql) => sql`insert into sellers (id, merchant_id, reference, name, default_currency) values (${seller.id}, 'mer_demo', ${seller.reference}, ${seller.name}, 'KES')`);
  return seller;
}

/** A Stripe connected account at the e2e sandbox with a Kenyan bank account (any number but the failure ones pays). */
export async function createConnectedAccount(accountNumber = "000123456789"): Promise<string> {
  const body = new URLSearchParams({
    type: "custom",
    country: "KE",
    default_currency: "kes",
    "external_account[object]": "bank_account",
    "external_account[country]": "KE",
    "external_account[currency]": "kes",
    "external_account[account_number]": accountNumber,
  });
  const res = await fetch(`${e2eState().sandboxUrl}/v1/accounts`, { method: "POST", headers: { authorization: `Bearer ${env.STRIPE_SECRET_KEY}`, "content-type": "application/x-www-form-urlencoded" }, body });
  const json = (await res.json()) as { id?: string };
  expect(res.status, JSON.stringify(json)).toBe(200);
  expect(json.id).toMatch(/^acct_/);
  return json.id!;
}

/** The fraud guard's 24 h hold after a destination change, lifted as if the day had passed. */
export async function liftPayoutHold(sellerId: string): Promise<void> {
  await withSql((sql) => sql`update sellers set payouts_held_until = now() - interval '1 second' where id = ${sellerId}`);
}

/** Waits until the checkout's orders are paid, then settles them (pending -> available) with the settlement job's function. */
export async function settleCheckout(checkoutId: string): Promise<void> {
  const { databaseUrl, sandboxUrl } = e2eState();
  const orderIds = await withSql(async (sql) => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const rows = await sql<{ id: string; status: string }[]>`select id, status::text from payment_orders where checkout_id = ${checkoutId}`;
      if (rows.length > 0 && rows.every((r) => r.status === "SUCCESS")) return rows.map((r) => r.id);
      if (Date.now() > deadline) throw new Error(`the orders of ${checkoutId} are not paid after 60 s: ${JSON.stringify(rows)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  });
  const { db, close } = createDb(databaseUrl, { max: 2 });
  try {
    await settleDueOrders(db, (d, psp) => getConnector(d, psp, { apiBase: sandboxUrl }), { orderIds });
  } finally {
    await close();
  }
  const [row] = await withSql((sql) => sql<{ n: number }[]>`select count(*)::int as n from order_settlements where payment_order_id = any(${orderIds})`);
  expect(row?.n, "every order of the checkout settled").toBe(orderIds.length);
}

/** A second admin of the demo merchant (same password as the demo users), for maker-checker. */
export async function createSecondAdmin(): Promise<string> {
  const email = `admin2-${Date.now().toString(36)}@demo.test`;
  await withSql(async (sql) => {
    const id = newId("usr");
    await sql`insert into users (id, email, name, password_hash) select ${id}, ${email}, 'Second Admin', password_hash from users where id = 'usr_demo_admin'`;
    await sql`insert into memberships (user_id, merchant_id, role) values (${id}, 'mer_demo', 'merchant_admin')`;
  });
  return email;
}

/** Sets the demo merchant's maker-checker threshold straight in the database (minor units; null = none). */
export async function setApprovalThresholdMinor(minor: bigint | null): Promise<void> {
  await withSql((sql) => sql`update merchants set payout_approval_threshold = ${minor === null ? null : minor.toString()}, payout_approval_threshold_next = null, payout_approval_threshold_next_at = null where id = 'mer_demo'`);
}

/**
 * A payout waiting for a second admin (pending_approval: nothing is sent), requested by the demo admin for a new
 * seller whose paid checkout `checkoutId` is settled here, through the domain's own functions (destination,
 * request). For the page walk: the payout page in its richest state.
 */
export async function createAwaitingPayout(seller: { id: string }, checkoutId: string): Promise<string> {
  const { databaseUrl, sandboxUrl } = e2eState();
  const account = await createConnectedAccount();
  await settleCheckout(checkoutId);
  const { db, close } = createDb(databaseUrl, { max: 2 });
  try {
    const connectorFor = (d: typeof db, psp: "stripe" | "mpesa") => getConnector(d, psp, { apiBase: sandboxUrl });
    await setPayoutDestination(db, connectorFor, { merchantId: "mer_demo", sellerId: seller.id, destination: { psp: "stripe", stripeAccountId: account }, userId: "usr_demo_admin" });
    await liftPayoutHold(seller.id);
    await setApprovalThresholdMinor(100n);
    const payout = await requestManualPayout(db, { merchantId: "mer_demo", sellerId: seller.id, currency: "KES", origin: "manual", requestedByUserId: "usr_demo_admin", idempotencyKey: `manual:mer_demo:e2e:${seller.id}` });
    expect(payout.status).toBe("pending_approval");
    return payout.id;
  } finally {
    await close();
  }
}
