import { describe, expect, it } from "vitest";
import { money } from "@/server/money";
import { accountFor, accountKey } from "./accounts";
import { StripeWalker, type ChainTransaction } from "./chain-verify";
import { GENESIS_HASH, canonicalTransaction, chainHashV2, contentDigestV2, transactionHash, type HashableTransaction } from "./hash";
import { netByAccount, validatePosting, type PostTransactionInput } from "./validate";

const kes = (v: bigint) => money(v, "KES");

function posting(lines: PostTransactionInput["lines"]): PostTransactionInput {
  return { source: "test", sourceId: "1", description: "d", lines };
}

describe("validatePosting", () => {
  const debit = { account: accountFor.pspClearing("stripe", "KES"), side: "debit" as const, amount: kes(100n) };
  const credit = { account: accountFor.sellerPending("sel_1", "KES"), side: "credit" as const, amount: kes(100n) };

  it("accepts a balanced posting", () => {
    expect(() => validatePosting(posting([debit, credit]))).not.toThrow();
  });

  it("refuses unbalanced, one-line, zero, negative and wrong-currency lines", () => {
    expect(() => validatePosting(posting([debit, { ...credit, amount: kes(99n) }]))).toThrow(/differ by 1 minor units in KES/);
    expect(() => validatePosting(posting([debit]))).toThrow(/at least two lines/);
    expect(() => validatePosting(posting([{ ...debit, amount: kes(0n) }, { ...credit, amount: kes(0n) }]))).toThrow(/positive/);
    expect(() => validatePosting(posting([{ ...debit, amount: kes(-5n) }, { ...credit, amount: kes(-5n) }]))).toThrow(/positive/);
    expect(() => validatePosting(posting([{ ...debit, amount: money(100n, "USD") }, credit]))).toThrow(/USD on a KES account/);
    expect(() => validatePosting({ ...posting([debit, credit]), sourceId: "" })).toThrow(/sourceId/);
  });

  it("balances per currency, not across currencies", () => {
    const usd = [
      { account: accountFor.pspClearing("stripe", "USD"), side: "debit" as const, amount: money(100n, "USD") },
      { account: accountFor.sellerPending("sel_1", "USD"), side: "credit" as const, amount: money(100n, "USD") },
    ];
    expect(() => validatePosting(posting([debit, credit, ...usd]))).not.toThrow();
    expect(() => validatePosting(posting([debit, usd[1]!]))).toThrow(/differ/);
  });

  it("nets lines per account and drops accounts that net to zero", () => {
    const net = netByAccount([debit, credit, { ...debit, side: "credit", amount: kes(100n) }, { ...credit, side: "debit", amount: kes(40n) }]);
    expect([...net.entries()]).toEqual([[`${accountKey(credit.account)}|KES`, -60n]]);
  });
});

const V1_BASE: HashableTransaction = {
  id: "ltx_1",
  ledger: "mer_1",
  chainStripe: 3,
  chainSeq: 1n,
  source: "s",
  sourceId: "1",
  description: "d",
  correctsTransactionId: null,
  metadata: { b: "2", a: "1" },
  postedAt: new Date("2026-01-02T03:04:05.678Z"),
  entries: [
    { line: 1, accountId: "lac_b", currency: "KES", amount: -100n },
    { line: 0, accountId: "lac_a", currency: "KES", amount: 100n },
  ],
};

describe("hash chain", () => {
  const base = V1_BASE;

  it("canonical form does not depend on metadata key order or entry order", () => {
    const reordered = { ...base, metadata: { a: "1", b: "2" }, entries: [...base.entries].reverse() };
    expect(canonicalTransaction(reordered)).toBe(canonicalTransaction(base));
    expect(transactionHash(GENESIS_HASH, reordered)).toMatch(/^[0-9a-f]{64}$/);
  });

  it("any change to content or to the previous hash changes the hash", () => {
    const h = transactionHash(GENESIS_HASH, base);
    const changed = [
      { ...base, entries: [{ ...base.entries[0]!, amount: -101n }, base.entries[1]!] },
      { ...base, postedAt: new Date(base.postedAt.getTime() + 1) },
      { ...base, description: "e" },
      { ...base, metadata: { a: "1" } },
      { ...base, chainSeq: 2n },
    ];
    for (const c of changed) expect(transactionHash(GENESIS_HASH, c)).not.toBe(h);
    expect(transactionHash("f".repeat(64), base)).not.toBe(h);
  });

  function chain(n: number): ChainTransaction[] {
    const out: ChainTransaction[] = [];
    let prev = GENESIS_HASH;
    for (let i = 1; i <= n; i++) {
      const t = { ...base, id: `ltx_${i}`, chainSeq: BigInt(i) };
      const hash = transactionHash(prev, t);
      out.push({ ...t, prevHash: prev, hash });
      prev = hash;
    }
    return out;
  }

  function walk(list: ChainTransaction[], head?: { seq: bigint; hash: string }) {
    const w = new StripeWalker("mer_1", 3);
    for (const t of list) if (!w.push(t)) break;
    return w.finish(head ?? null);
  }

  it("names the first broken transaction: edited, removed, reordered, relinked or truncated", () => {
    const good = chain(5);
    expect(walk(good, { seq: 5n, hash: good[4]!.hash })).toBeNull();

    const edited = chain(5);
    edited[2] = { ...edited[2]!, description: "tampered" };
    expect(walk(edited)).toMatchObject({ transactionId: "ltx_3", reason: "content_altered" });

    expect(walk([...good.slice(0, 2), ...good.slice(3)])).toMatchObject({ transactionId: "ltx_4", reason: "sequence_gap" });
    expect(walk([good[0]!, good[2]!, good[1]!])).toMatchObject({ transactionId: "ltx_3", reason: "sequence_gap" });

    const relinked = chain(3);
    relinked[1] = { ...relinked[1]!, prevHash: "a".repeat(64) };
    expect(walk(relinked)).toMatchObject({ transactionId: "ltx_2", reason: "link_broken" });

    expect(walk(good.slice(0, 4), { seq: 5n, hash: good[4]!.hash })).toMatchObject({ reason: "head_mismatch" });
  });
});

describe("hash chain, v2 (linked by Postgres in the posting statement)", () => {
  const base: HashableTransaction = {
    ...V1_BASE,
    id: "ltx_2",
    chainSeq: 7n,
    hashVersion: 2,
    entries: [
      { line: 1, accountId: "lac_b", accountKey: "seller_payable_pending:sel_1", accountCurrency: "KES", currency: "KES", amount: -100n },
      { line: 0, accountId: "lac_a", accountKey: "psp_clearing:stripe", accountCurrency: "KES", currency: "KES", amount: 100n },
    ],
  };

  it("is sha256(prev || seq || ledger || digest), and the digest ignores entry and metadata order", () => {
    expect(transactionHash(GENESIS_HASH, base)).toBe(chainHashV2(GENESIS_HASH, 7n, "mer_1", contentDigestV2(base)));
    expect(contentDigestV2({ ...base, metadata: { a: "1", b: "2" }, entries: [...base.entries].reverse() })).toBe(contentDigestV2(base));
  });

  it("any change to what the posting says, to its place in the chain or to its predecessor changes the hash", () => {
    const h = transactionHash(GENESIS_HASH, base);
    const [e1, e0] = base.entries as [HashableEntryT, HashableEntryT];
    const changed: HashableTransaction[] = [
      { ...base, entries: [{ ...e1, amount: -101n }, e0] },
      { ...base, entries: [{ ...e1, accountKey: "seller_payable_available:sel_1" }, e0] },
      { ...base, entries: [{ ...e1, currency: "USD", accountCurrency: "USD" }, e0] },
      { ...base, entries: [{ ...e1, accountCurrency: "USD" }, e0] }, // pointed at the same key in another currency
      { ...base, entries: [{ ...e1, accountKey: undefined }, e0] }, // read without its account: never verifies
      { ...base, entries: [{ ...e1, line: 2 }, e0] },
      { ...base, postedAt: new Date(base.postedAt.getTime() + 1) },
      { ...base, description: "e" },
      { ...base, metadata: { a: "1" } },
      { ...base, correctsTransactionId: "ltx_0" },
      { ...base, source: "t" },
      { ...base, chainStripe: 4 },
      { ...base, chainSeq: 8n },
      { ...base, ledger: "mer_2" },
      { ...base, hashVersion: 1 },
    ];
    for (const c of changed) expect(transactionHash(GENESIS_HASH, c)).not.toBe(h);
    expect(transactionHash("f".repeat(64), base)).not.toBe(h);
    expect(() => transactionHash(GENESIS_HASH, { ...base, hashVersion: 3 })).toThrow(/unknown ledger hash version/);
  });
});

type HashableEntryT = HashableTransaction["entries"][number];
