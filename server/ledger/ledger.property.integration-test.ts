// Property test: random sequences of postings, holds, releases, captures, corrections and replays against
// real Postgres, checked against a tiny in-memory model of the accounts.
import fc from "fast-check";
import { count } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ledgerTransactions } from "@/db/schema";
import { money } from "@/server/money";
import { captureHold, getBalance, placeHold, releaseHold } from "@/server/wallet";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { ACCOUNT_SPECS, accountFor, accountKey, type AccountRef } from "./accounts";
import { isInsufficientFunds } from "./balances";
import { checkLedgerInvariants } from "./check-balances";
import { postTransaction, reverseTransaction } from "./post-transaction";
import { createMerchantWithSellers, paymentPosting, settlementPosting } from "./test-helpers";
import type { PostingLine } from "./validate";
import { verifyLedger } from "./verify-ledger";

const NUM_RUNS = 15;
const MIN_OPS = 10;
const MAX_OPS = 30;
const SELLERS = 3;

type Op =
  | { t: "pay"; seller: number; gross: number; fee: number }
  | { t: "settle"; seller: number; amount: number }
  | { t: "hold"; seller: number; amount: number }
  | { t: "release" | "capture" | "correct" | "replay"; pick: number };

// Amounts are sized so that both accepted and insufficient-funds outcomes are common.
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ t: fc.constant("pay" as const), seller: fc.nat(SELLERS - 1), gross: fc.integer({ min: 1, max: 50_000 }), fee: fc.integer({ min: 0, max: 10 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("settle" as const), seller: fc.nat(SELLERS - 1), amount: fc.integer({ min: 1, max: 25_000 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("hold" as const), seller: fc.nat(SELLERS - 1), amount: fc.integer({ min: 1, max: 15_000 }) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constantFrom("release" as const, "capture" as const, "correct" as const, "replay" as const), pick: fc.nat() }) },
);

/** Expected balances in each account's normal direction, as deltas from the run's start. */
class Model {
  readonly balance = new Map<string, bigint>();
  readonly refs = new Map<string, AccountRef>();

  /** Applies the lines if no no-negative account would go below zero; returns whether it did. */
  apply(lines: readonly PostingLine[], baseline: (key: string) => bigint): boolean {
    const next = new Map<string, bigint>();
    for (const l of lines) {
      const key = accountKey(l.account);
      this.refs.set(key, l.account);
      const spec = ACCOUNT_SPECS[l.account.kind];
      const towardNormal = l.side === spec.normalSide ? l.amount.amount : -l.amount.amount;
      next.set(key, (next.get(key) ?? this.balance.get(key) ?? 0n) + towardNormal);
    }
    for (const [key, v] of next) {
      if (!ACCOUNT_SPECS[this.refs.get(key)!.kind].allowNegative && v + baseline(key) < 0n) return false;
    }
    for (const [key, v] of next) this.balance.set(key, v);
    return true;
  }
}

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => t?.drop());

async function transactionCount(): Promise<number> {
  const [row] = await t.db.select({ n: count() }).from(ledgerTransactions);
  return row!.n;
}

let runNo = 0;

async function runSequence(ops: Op[]): Promise<void> {
  const run = ++runNo;
  const { merchantId, sellerIds } = await createMerchantWithSellers(t.db, SELLERS);
  const psp = `psp${run}`;
  const model = new Model();
  const shared = [accountFor.platform("platform_fees", "KES"), accountFor.platform("payouts_in_transit", "KES")];
  const base = new Map<string, bigint>();
  for (const ref of shared) base.set(accountKey(ref), (await getBalance(t.db, ref)).amount);
  const baseline = (key: string) => base.get(key) ?? 0n;
  const countBefore = await transactionCount();
  let written = 0;
  const correctable: Array<{ id: string; lines: readonly PostingLine[]; reversed: boolean }> = [];
  const holds: Array<{ id: string; seller: string; amount: bigint; status: "placed" | "released" | "captured" }> = [];
  const redo: Array<() => Promise<string>> = [];

  /** Runs one write in its own DB transaction; checks the DB agrees with the model on success vs refusal. */
  const attempt = async (lines: readonly PostingLine[], write: () => Promise<string>): Promise<string | null> => {
    const expectOk = model.apply(lines, baseline);
    const id = await t.db.transaction(() => write()).catch((e: unknown) => {
      if (isInsufficientFunds(e)) return null;
      throw e;
    });
    expect(id !== null, `DB ${id ? "accepted" : "refused"} a posting the model ${expectOk ? "accepts" : "refuses"}`).toBe(expectOk);
    if (id) {
      written++;
      redo.push(write);
    }
    return id;
  };

  for (const [i, op] of ops.entries()) {
    if (op.t === "pay" || op.t === "settle") {
      const seller = sellerIds[op.seller]!;
      const input =
        op.t === "pay"
          ? paymentPosting({ sourceId: `r${run}-${i}`, sellerId: seller, gross: BigInt(op.gross), fee: (BigInt(op.gross) * BigInt(op.fee)) / 100n, psp })
          : settlementPosting({ sourceId: `r${run}-${i}`, sellerId: seller, amount: BigInt(op.amount) });
      const id = await attempt(input.lines, async () => (await t.db.transaction((tx) => postTransaction(tx, input))).id);
      if (id) correctable.push({ id, lines: input.lines, reversed: false });
    } else if (op.t === "hold") {
      const seller = sellerIds[op.seller]!;
      const amount = money(BigInt(op.amount), "KES");
      const lines: PostingLine[] = [
        { account: accountFor.sellerAvailable(seller, "KES"), side: "debit", amount },
        { account: accountFor.sellerOnHold(seller, "KES"), side: "credit", amount },
      ];
      const write = async () => (await t.db.transaction((tx) => placeHold(tx, { sellerId: seller, amount, reference: `payout-r${run}-${i}` }))).id;
      const id = await attempt(lines, write);
      if (id) holds.push({ id, seller, amount: amount.amount, status: "placed" });
    } else if (op.t === "release" || op.t === "capture") {
      const placed = holds.filter((h) => h.status === "placed");
      if (placed.length === 0) continue;
      const h = placed[op.pick % placed.length]!;
      const amount = money(h.amount, "KES");
      const target = op.t === "release" ? accountFor.sellerAvailable(h.seller, "KES") : accountFor.platform("payouts_in_transit", "KES");
      const lines: PostingLine[] = [
        { account: accountFor.sellerOnHold(h.seller, "KES"), side: "debit", amount },
        { account: target, side: "credit", amount },
      ];
      const fn = op.t === "release" ? releaseHold : captureHold;
      const id = await attempt(lines, async () => (await t.db.transaction((tx) => fn(tx, h.id))).settleTransactionId!);
      expect(id).not.toBeNull(); // a placed hold can always be settled
      h.status = op.t === "release" ? "released" : "captured";
    } else if (op.t === "correct") {
      const open = correctable.filter((c) => !c.reversed);
      if (open.length === 0) continue;
      const c = open[op.pick % open.length]!;
      const lines = c.lines.map((l) => ({ ...l, side: l.side === "debit" ? ("credit" as const) : ("debit" as const) }));
      const write = async () => (await t.db.transaction((tx) => reverseTransaction(tx, { transactionId: c.id, source: "correction", sourceId: `rev:${c.id}`, description: "test" }))).id;
      if (await attempt(lines, write)) c.reversed = true;
    } else if (redo.length > 0) {
      // Replay: the same write again must return the same thing and change nothing.
      const before = await transactionCount();
      const write = redo[op.pick % redo.length]!;
      await write();
      expect(await transactionCount()).toBe(before);
    }
  }

  for (const [key, expected] of model.balance) {
    const actual = await getBalance(t.db, model.refs.get(key)!);
    expect(actual.amount - baseline(key), `balance of ${key}`).toBe(expected);
  }
  expect(await transactionCount()).toBe(countBefore + written);
  const invariants = await checkLedgerInvariants(t.db);
  expect(invariants, JSON.stringify(invariants, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))).toMatchObject({ ok: true });
  expect((await verifyLedger(t.db, { ledger: merchantId })).ok).toBe(true);
}

it("random postings, holds, releases, captures, corrections and replays keep every invariant", async () => {
  await fc.assert(fc.asyncProperty(fc.array(opArb, { minLength: MIN_OPS, maxLength: MAX_OPS }), runSequence), { numRuns: NUM_RUNS });
  expect((await verifyLedger(t.db)).ok).toBe(true);
}, 120_000);
