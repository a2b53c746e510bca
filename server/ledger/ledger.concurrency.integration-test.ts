// 64 writers posting to overlapping (hot) accounts for 10 s: no deadlock or other error escapes, no posting
// is lost or doubled, and every invariant holds afterwards.
import { count, like } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createDb, type DbHandle } from "@/db/client";
import { ledgerTransactions } from "@/db/schema";
import { money } from "@/server/money";
import { captureHold, placeHold, releaseHold } from "@/server/wallet";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { isInsufficientFunds } from "./balances";
import { checkLedgerInvariants, formatInvariantReport } from "./check-balances";
import { formatVerifyReport } from "./chain-verify";
import { postTransaction, postTransactions, reverseTransaction } from "./post-transaction";
import { createMerchantWithSellers, paymentPosting, settlementPosting } from "./test-helpers";
import { verifyLedger } from "./verify-ledger";

const WRITERS = 64;
const DURATION_MS = 10_000;
const SHARED_SOURCE_IDS = 50;

let t: TestDatabase;
let pool: DbHandle;
const sellers: string[] = [];

beforeAll(async () => {
  t = await createTestDatabase();
  pool = createDb(t.url, { max: WRITERS + 2 });
  for (let m = 0; m < 2; m++) sellers.push(...(await createMerchantWithSellers(t.db, 4)).sellerIds);
});
afterAll(async () => {
  await pool?.close();
  await t?.drop();
});

const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)]!;
const between = (min: number, max: number) => BigInt(min + Math.floor(Math.random() * (max - min + 1)));

it("64 concurrent writers on overlapping accounts: no deadlock escapes and the invariants hold", async () => {
  const db = pool.db;
  const errors: unknown[] = [];
  let written = 0;
  let refused = 0;
  const deadline = Date.now() + DURATION_MS;

  /** One DB transaction; counts new transactions written, tolerates only insufficient funds. */
  const step = async (fn: () => Promise<number>) => {
    try {
      const n = await fn(); // not `written += await fn()`: that reads `written` before the await
      written += n;
    } catch (e) {
      if (isInsufficientFunds(e)) refused++;
      else errors.push(e);
    }
  };

  const writer = async (w: number) => {
    const mine: string[] = [];
    for (let n = 0; Date.now() < deadline && errors.length === 0; n++) {
      const roll = Math.random();
      if (roll < 0.12) {
        // A checkout: one posting per seller of one merchant, in one DB transaction (postTransactions).
        const m = Math.floor(Math.random() * 2);
        const batch = sellers.slice(m * 4, m * 4 + 2 + Math.floor(Math.random() * 3)).map((sellerId, i) =>
          paymentPosting({ sourceId: `w${w}-${n}-b${i}`, sellerId, gross: between(100, 10_000), fee: 50n, psp: pick(["stripe", "mpesa"]) }),
        );
        await step(async () => {
          const posted = await db.transaction((tx) => postTransactions(tx, batch));
          mine.push(...posted.map((p) => p.id));
          return posted.length;
        });
      } else if (roll < 0.45) {
        const input = paymentPosting({ sourceId: `w${w}-${n}`, sellerId: pick(sellers), gross: between(100, 10_000), fee: 50n, psp: pick(["stripe", "mpesa"]) });
        await step(async () => {
          const p = await db.transaction((tx) => postTransaction(tx, input));
          mine.push(p.id);
          return 1;
        });
      } else if (roll < 0.55) {
        // The same source ids posted by many writers at once: exactly one transaction each.
        const k = Math.floor(Math.random() * SHARED_SOURCE_IDS);
        const input = paymentPosting({ sourceId: `shared-${k}`, sellerId: sellers[k % sellers.length]!, gross: BigInt(1_000 + k), fee: 10n });
        await step(async () => ((await db.transaction((tx) => postTransaction(tx, input))).replayed ? 0 : 1));
      } else if (roll < 0.75) {
        const input = settlementPosting({ sourceId: `w${w}-${n}`, sellerId: pick(sellers), amount: between(1, 5_000) });
        await step(async () => (await db.transaction((tx) => postTransaction(tx, input)), 1));
      } else if (roll < 0.9) {
        const seller = pick(sellers);
        let holdId: string | undefined;
        await step(async () => {
          holdId = (await db.transaction((tx) => placeHold(tx, { sellerId: seller, amount: money(between(1, 3_000), "KES"), reference: `payout-w${w}-${n}` }))).id;
          return 1;
        });
        if (holdId) {
          const id = holdId;
          await step(async () => (await db.transaction((tx) => (Math.random() < 0.5 ? releaseHold(tx, id) : captureHold(tx, id))), 1));
        }
      } else if (mine.length > 0) {
        const target = mine.splice(Math.floor(Math.random() * mine.length), 1)[0]!;
        await step(async () => (await db.transaction((tx) => reverseTransaction(tx, { transactionId: target, source: "correction", sourceId: `rev:${target}`, description: "test" })), 1));
      }
    }
  };

  await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));

  expect(errors, errors.map((e) => (e instanceof Error ? e.message : String(e))).join("\n")).toEqual([]);
  expect(written).toBeGreaterThan(WRITERS); // the run did real work
  const [all] = await t.db.select({ n: count() }).from(ledgerTransactions);
  expect(all!.n).toBe(written); // nothing lost, nothing doubled
  const [shared] = await t.db.select({ n: count() }).from(ledgerTransactions).where(like(ledgerTransactions.sourceId, "shared-%"));
  expect(shared!.n).toBeLessThanOrEqual(SHARED_SOURCE_IDS);
  const invariants = await checkLedgerInvariants(t.db);
  expect(invariants.ok, formatInvariantReport(invariants)).toBe(true);
  const chain = await verifyLedger(t.db);
  expect(chain.ok, formatVerifyReport(chain)).toBe(true);
  console.log(`[ledger concurrency] ${written} transactions written, ${refused} refused for insufficient funds, ${chain.stripesChecked} chain stripes verified`);
}, 60_000);
