// The card number never reaches the platform: a card is tokenized through the sandbox's hosted field
// endpoints (what the iframe does, with the publishable key), the platform only handles ids, and then no
// Luhn-valid 13–19 digit number is found in any table of our database nor in the captured logs.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { money } from "@/server/money";
import type { Sandbox } from "@/sandbox/index";
import { type Receiver, startReceiver, startTestSandbox } from "@/sandbox/testing";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { env } from "@/server/env.js";
import { createStripeConnector } from "@/server/psp";
import { processPspEvent } from "@/server/webhooks/process-psp-event";
import { receiveStripeWebhook } from "@/server/webhooks/receive-stripe-webhook";
import { findPans } from "./pan-scan";
import { findPansInDatabase } from "./pan-scan-db";

const CARD = "4242424242424242";
const APP_ORIGIN = "http://localhost:3000";
let sandbox: Sandbox;
let receiver: Receiver;
let t: TestDatabase;
const logs: string[] = [];

beforeAll(async () => {
  for (const level of ["log", "info", "warn", "error", "debug"] as const) {
    const original = console[level].bind(console);
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      logs.push(args.map((a) => (typeof a === "string" ? a : JSON.stringify(a, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)))).join(" "));
      original(...args);
    });
  }
  t = await createTestDatabase();
  receiver = await startReceiver(async (_path, body, headers) => receiveStripeWebhook(t.db, body, (headers["stripe-signature"] as string | undefined) ?? null));
  sandbox = await startTestSandbox({ webhookTargets: { stripe: [receiver.url] } });
});
afterAll(async () => {
  vi.restoreAllMocks();
  await sandbox?.stop();
  await receiver?.stop();
  await t?.drop();
});

/** What the card-field iframe does in the browser: the number goes to the PSP, with the publishable key. */
async function browserConfirm(clientSecret: string, number: string): Promise<{ id: string; status: string }> {
  const auth = { authorization: `Bearer ${env.STRIPE_PUBLISHABLE_KEY}`, "content-type": "application/x-www-form-urlencoded" };
  const pm = (await (await fetch(`${sandbox.url}/v1/payment_methods`, { method: "POST", headers: auth, body: new URLSearchParams({ type: "card", "card[number]": number, "card[exp_month]": "12", "card[exp_year]": "2034", "card[cvc]": "123" }) })).json()) as { id: string };
  const pi = clientSecret.split("_secret_")[0]!;
  return (await (await fetch(`${sandbox.url}/v1/payment_intents/${pi}/confirm`, { method: "POST", headers: auth, body: new URLSearchParams({ client_secret: clientSecret, payment_method: pm.id }) })).json()) as { id: string; status: string };
}

describe("hosted card field", () => {
  it("serves the field page (framable, origin-bound) and the stripe.js stand-in", async () => {
    const page = await fetch(`${sandbox.url}/elements/card?pk=${env.STRIPE_PUBLISHABLE_KEY}&origin=${encodeURIComponent(APP_ORIGIN)}&eid=el_1`);
    expect(page.status).toBe(200);
    expect(page.headers.get("x-frame-options")).toBeNull();
    const html = await page.text();
    expect(html).toContain(`"parentOrigin":"${APP_ORIGIN}"`);
    // No browser here: at least prove the inline scripts parse.
    expect(() => new Function(/<script>([\s\S]*)<\/script>/.exec(html)![1]!)).not.toThrow();
    expect((await fetch(`${sandbox.url}/elements/card?pk=pk_wrong&origin=${encodeURIComponent(APP_ORIGIN)}`)).status).toBe(400);
    const js = await (await fetch(`${sandbox.url}/v3/`)).text();
    expect(() => new Function(js)).not.toThrow();
    for (const fn of ["elements", "createPaymentMethod", "confirmPayment", "confirmCardPayment", "retrievePaymentIntent", "handleNextAction", "createToken"]) expect(js).toContain(`prototype.${fn}=`);
  });

  it("a client secret does not let one PaymentIntent be confirmed with another's secret", async () => {
    const stripe = createStripeConnector(t.db, { apiBase: sandbox.url });
    const a = await stripe.createPayment({ amount: money(100n, "USD"), idempotencyKey: "cf_a", reference: "cf_a" });
    const b = await stripe.createPayment({ amount: money(100n, "USD"), idempotencyKey: "cf_b", reference: "cf_b" });
    const forged = `${b.pspReference}_secret_${a.clientSecret!.split("_secret_")[1]}`;
    const res = await browserConfirm(forged, CARD);
    expect(res.status).toBeUndefined();
  });

  it("after a checkout, no card number is in any table nor in the logs", async () => {
    const stripe = createStripeConnector(t.db, { apiBase: sandbox.url });
    const created = await stripe.createPayment({ amount: money(4200n, "USD"), idempotencyKey: "cf_checkout", reference: "po_cf" });
    console.log("[test] created payment", created);
    const confirmed = await browserConfirm(created.clientSecret!, CARD);
    expect(confirmed).toMatchObject({ id: created.pspReference, status: "succeeded" });
    const status = await stripe.getPaymentStatus({ pspReference: created.pspReference });
    console.log("[test] status", status);
    expect(status.status).toBe("succeeded");
    await sandbox.webhooksIdle();
    const stored = await t.sql<{ id: string }[]>`select id from psp_events`;
    expect(stored.length).toBeGreaterThan(0);
    for (const { id } of stored) await processPspEvent(t.db, id);

    expect(await findPansInDatabase(t.sql)).toEqual([]);
    expect(logs.length).toBeGreaterThan(0);
    expect(logs.flatMap(findPans)).toEqual([]);
    // The sandbox itself keeps only the last four digits.
    expect(JSON.stringify(sandbox.stripeObjects("payment_method"))).not.toContain(CARD);
  });

  it("the scan would catch a stored card number (the check can fail)", async () => {
    expect(findPans(`card ${CARD.replace(/(\d{4})/g, "$1 ").trim()} and 4000-0000-0000-0002`)).toEqual([CARD, "4000000000000002"]);
    expect(findPans("1795947434853 20261129103005 254712345678 0000000000000000")).toEqual([]);
    await t.sql`insert into psp_events (id, psp, event_id, event_type, raw_body, payload) values ('pse_plant', 'stripe', 'evt_plant', 'x', ${`{"n":"${CARD}"}`}, '{}')`;
    expect(await findPansInDatabase(t.sql)).toEqual([{ table: "psp_events", pans: [CARD] }]);
  });
});
