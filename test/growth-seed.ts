// A merchant's history grown set-based, for `npm run bench:growth` and the query-plan check
// (test/query-plans.integration-test.ts); a fixture that fabricates history, so it lives with the tests (it writes
// status columns directly, which app code may only do through its state machines: server/architecture.test.ts): checkouts, payment orders and their transitions as generate_series inserts,
// and each successful order's ledger posting with a valid v2 hash chain (hashed here, inserted in bulk), so the
// ledger verifier, the balance checks and point-in-time balances read real chains. Triggers and constraints stay on.
//
// Order i of a merchant was created at `origin + i * stepMs`: growing a merchant from n to m orders appends later
// orders, as time would. Statuses by i mod 1000: 800 SUCCESS (checkout completed, one posting), 120 FAILED, 5
// EXECUTING (checkout processing: the rare status), the rest FAILED by expiry (an old open checkout the hourly sweep
// expired). Buyer IPs and emails repeat every 5,000 orders.
import type postgres from "postgres";
import { ulidFrom } from "../db/ids";
import { accountFor, accountKey, ensureAccounts, type AccountRef } from "../server/ledger/accounts";
import { GENESIS_HASH, chainHashV2, contentDigestV2 } from "../server/ledger/hash";
import { LEDGER_CHAIN_STRIPES } from "../server/ledger/post-transaction";
import type { Db } from "../db/client";
import { merchants, sellers } from "../db/schema";

export interface GrowthTenant {
  merchantId: string;
  sellerIds: string[];
  /** A small number told apart in ids, so two tenants' set-based ids never collide. */
  tag: number;
  accounts: { clearing: string; fees: string; pending: string[] };
}

export const GROWTH_CURRENCY = "KES";
/** Ledger rows hashed and inserted per statement (13 arrays of this many). */
const LEDGER_BATCH = 5_000;

/** A merchant with two sellers and the ledger accounts a card payment posts to. */
export async function createGrowthTenant(db: Db, tag: number): Promise<GrowthTenant> {
  const [m] = await db.insert(merchants).values({ name: `Growth ${tag}`, country: "KE", defaultCurrency: GROWTH_CURRENCY }).returning();
  const ss = await db
    .insert(sellers)
    .values([0, 1].map((k) => ({ merchantId: m!.id, reference: `growth-${tag}-seller-${k}`, name: `Growth ${tag} seller ${k}`, defaultCurrency: GROWTH_CURRENCY })))
    .returning();
  const refs: AccountRef[] = [accountFor.pspClearing("stripe", GROWTH_CURRENCY), accountFor.platform("platform_fees", GROWTH_CURRENCY), ...ss.map((s) => accountFor.sellerPending(s.id, GROWTH_CURRENCY))];
  const accounts = await db.transaction((tx) => ensureAccounts(tx, refs));
  const id = (ref: AccountRef) => [...accounts.values()].find((a) => a.key === accountKey(ref) && a.currency === GROWTH_CURRENCY)!.id;
  return {
    merchantId: m!.id,
    sellerIds: ss.map((s) => s.id),
    tag,
    accounts: { clearing: id(refs[0]!), fees: id(refs[1]!), pending: ss.map((s) => id(accountFor.sellerPending(s.id, GROWTH_CURRENCY))) },
  };
}

/** Crockford base32 (the ULID alphabet) in SQL, so set-based ids sort by time like the app's own. */
async function ensureSeedFunctions(sql: postgres.Sql): Promise<void> {
  await sql.unsafe(`
    create or replace function growth_b32(v bigint, len int) returns text language sql immutable as $$
      select string_agg(substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', ((v >> (5 * (len - 1 - k))) & 31)::int + 1, 1), '' order by k)
      from generate_series(0, len - 1) k $$;
    create or replace function growth_ulid(at timestamptz, tag int, i bigint) returns text language sql immutable as $$
      select growth_b32((extract(epoch from at) * 1000)::bigint, 10) || growth_b32(tag, 4) || growth_b32(i, 12) $$;`);
}

export interface GrowOptions {
  /** Time of order 0. */
  origin: Date;
  stepMs: number;
}

// The same rules as ORDER_AMOUNT and the status mix in the header, for the set-based inserts.
const AMOUNT_SQL = "1000 + (i * 7919) % 99000";
const ORDER_STATUS = "case when i % 1000 < 800 then 'SUCCESS' when i % 1000 between 920 and 924 then 'EXECUTING' else 'FAILED' end";
const CHECKOUT_STATUS = "case when i % 1000 < 800 then 'completed' when i % 1000 between 920 and 924 then 'processing' else 'failed' end";

const orderAt = (o: GrowOptions, i: number) => new Date(o.origin.getTime() + i * o.stepMs);
const ORDER_AMOUNT = (i: number) => BigInt(1_000 + ((i * 7_919) % 99_000));
const FEE = (amount: bigint) => (amount * 200n) / 10_000n;

/** Appends orders [from, to) to the tenant's history: checkouts, orders, transitions, and the postings of the successful ones. */
export async function growTenant(db: Db, sql: postgres.Sql, t: GrowthTenant, from: number, to: number, o: GrowOptions): Promise<void> {
  await ensureSeedFunctions(sql);
  const CHUNK = 50_000;
  for (let a = from; a < to; a += CHUNK) {
    const b = Math.min(to, a + CHUNK);
    await sql.begin(async (tx) => {
      const g = (extra: string) => `
        from (select i, at, growth_ulid(at, ${t.tag}, i) as body from (
          select i, '${o.origin.toISOString()}'::timestamptz + (i * ${o.stepMs}::bigint) * interval '1 millisecond' as at
          from generate_series(${a}::bigint, ${b - 1}::bigint) i) s) g ${extra}`;
      await tx.unsafe(`
        insert into checkouts (id, merchant_id, status, currency, total_amount, buyer_info_encrypted, buyer_email_hash, buyer_ip, buyer_country, return_url, created_at, updated_at)
        select 'chk_' || body, '${t.merchantId}', (${CHECKOUT_STATUS})::checkout_status, '${GROWTH_CURRENCY}', ${AMOUNT_SQL}, 'v1.growth-seed',
               md5('buyer-' || (i % 5000)), '10.' || (i % 5000 / 250) || '.' || (i % 250) || '.7', 'KE', 'https://shop.example/return', at, at
        ${g("")}`);
      await tx.unsafe(`
        insert into payment_orders (id, payment_order_id, merchant_id, checkout_id, seller_id, amount, currency, status, version, psp, failure_code, failure_message, created_at, updated_at)
        select 'po_' || body, 'growth-' || i, '${t.merchantId}', 'chk_' || body, (array['${t.sellerIds.join("','")}'])[1 + i % ${t.sellerIds.length}],
               ${AMOUNT_SQL}, '${GROWTH_CURRENCY}', (${ORDER_STATUS})::payment_order_status, case when i % 1000 between 920 and 924 then 1 else 2 end,
               case when i % 2 = 0 then 'stripe' else 'mpesa' end,
               case when i % 1000 >= 800 and i % 1000 not between 920 and 924 then (case when i % 1000 < 920 then 'card_declined' else 'checkout_expired' end) end,
               case when i % 1000 >= 800 and i % 1000 not between 920 and 924 then 'Seeded.' end,
               at, at
        ${g("")}`);
      await tx.unsafe(`
        insert into payment_order_transitions (id, payment_order_id, from_status, to_status, reason, at)
        select 'pot_' || body, 'po_' || body, 'EXECUTING', (${ORDER_STATUS})::payment_order_status, 'seeded', at
        ${g("where i % 1000 not between 920 and 924")}`);
    });
  }
  await postSuccessfulOrders(sql, t, from, to, o);
}

const range = (a: number, b: number) => Array.from({ length: b - a }, (_, k) => a + k);

interface Head {
  seq: bigint;
  hash: string;
}

/** The postings of the successful orders in [from, to): valid v2 chains over the ledger's stripes, balances applied. */
async function postSuccessfulOrders(sql: postgres.Sql, t: GrowthTenant, from: number, to: number, o: GrowOptions): Promise<void> {
  const heads = new Map<number, Head>();
  for (const r of await sql<{ stripe: number; seq: bigint; head_hash: string }[]>`select stripe, seq, head_hash from ledger_chains where ledger = ${t.merchantId}`) {
    heads.set(r.stripe, { seq: BigInt(r.seq), hash: r.head_hash });
  }
  const successes = range(from, to).filter((i) => i % 1000 < 800);
  const deltas = new Map<string, bigint>();
  const add = (account: string, v: bigint) => deltas.set(account, (deltas.get(account) ?? 0n) + v);
  const keys = { clearing: "psp_clearing:stripe", fees: "platform_fees", pending: t.sellerIds.map((s) => `seller_payable_pending:${s}`) };
  for (let a = 0; a < successes.length; a += LEDGER_BATCH) {
    const cols = { id: [] as string[], stripe: [] as number[], seq: [] as string[], sourceId: [] as string[], postedAt: [] as string[], prev: [] as string[], hash: [] as string[] };
    const entries = { txn: [] as string[], line: [] as number[], account: [] as string[], amount: [] as string[] };
    for (const i of successes.slice(a, a + LEDGER_BATCH)) {
      const at = orderAt(o, i);
      // A posting follows its order by a second (the PSP's answer), as in the app: id and posted_at minted together.
      const postedAt = new Date(at.getTime() + 1_000);
      const body = ulidFrom(postedAt.getTime(), (BigInt(t.tag) << 60n) | BigInt(i));
      const id = `ltx_${body}`;
      const orderId = `po_${ulidString(at, t.tag, i)}`;
      const stripe = i % LEDGER_CHAIN_STRIPES;
      const head = heads.get(stripe) ?? { seq: 0n, hash: GENESIS_HASH };
      const amount = ORDER_AMOUNT(i);
      const fee = FEE(amount);
      const seller = i % t.sellerIds.length;
      const lines = [
        { line: 0, accountKey: keys.clearing, accountId: t.accounts.clearing, amount },
        { line: 1, accountKey: keys.pending[seller]!, accountId: t.accounts.pending[seller]!, amount: -(amount - fee) },
        { line: 2, accountKey: keys.fees, accountId: t.accounts.fees, amount: -fee },
      ];
      const digest = contentDigestV2({
        id,
        chainStripe: stripe,
        source: "payment_order",
        sourceId: orderId,
        description: "Payment order captured",
        correctsTransactionId: null,
        metadata: {},
        postedAt,
        entries: lines.map((l) => ({ line: l.line, accountKey: l.accountKey, currency: GROWTH_CURRENCY, amount: l.amount })),
      });
      const seq = head.seq + 1n;
      const hash = chainHashV2(head.hash, seq, t.merchantId, digest);
      cols.id.push(id);
      cols.stripe.push(stripe);
      cols.seq.push(seq.toString());
      cols.sourceId.push(orderId);
      cols.postedAt.push(postedAt.toISOString());
      cols.prev.push(head.hash);
      cols.hash.push(hash);
      heads.set(stripe, { seq, hash });
      for (const l of lines) {
        entries.txn.push(id);
        entries.line.push(l.line);
        entries.account.push(l.accountId);
        entries.amount.push(l.amount.toString());
        add(l.accountId, l.amount);
      }
    }
    await sql.begin(async (tx) => {
      await tx`
        insert into ledger_transactions (id, ledger, chain_stripe, chain_seq, source, source_id, description, metadata, posted_at, prev_hash, hash, hash_version)
        select id, ${t.merchantId}, stripe, seq, 'payment_order', source_id, 'Payment order captured', '{}'::jsonb, posted_at, prev, hash, 2
        from unnest(${cols.id}::text[], ${cols.stripe}::smallint[], ${cols.seq}::bigint[], ${cols.sourceId}::text[], ${cols.postedAt}::timestamptz[], ${cols.prev}::text[], ${cols.hash}::text[])
          as u(id, stripe, seq, source_id, posted_at, prev, hash)`;
      await tx`
        insert into ledger_entries (transaction_id, line, account_id, currency, amount)
        select txn, line, account, ${GROWTH_CURRENCY}, amount
        from unnest(${entries.txn}::text[], ${entries.line}::smallint[], ${entries.account}::text[], ${entries.amount}::bigint[]) as u(txn, line, account, amount)`;
    });
  }
  await sql.begin(async (tx) => {
    for (const [stripe, h] of heads) {
      await tx`
        insert into ledger_chains (ledger, stripe, seq, head_hash) values (${t.merchantId}, ${stripe}, ${h.seq.toString()}, ${h.hash})
        on conflict (ledger, stripe) do update set seq = excluded.seq, head_hash = excluded.head_hash`;
    }
    for (const [account, delta] of deltas) {
      await tx`update ledger_balances set balance = balance + ${delta.toString()}::bigint where account_id = ${account} and shard = 0`;
    }
  });
}

/** The same body as growth_ulid() in SQL. */
function ulidString(at: Date, tag: number, i: number): string {
  const b32 = (v: bigint, len: number) => {
    let out = "";
    for (let k = 0; k < len; k++) {
      out = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"[Number(v & 31n)] + out;
      v >>= 5n;
    }
    return out;
  };
  return b32(BigInt(at.getTime()), 10) + b32(BigInt(tag), 4) + b32(BigInt(i), 12);
}

/**
 * Reopens up to `n` of the merchant's failed checkouts created 25 to 27 hours ago (one order each), as checkouts a buyer
 * left unpaid for a day: the stale-checkout sweep's work. Returns how many.
 */
export async function reopenStaleCheckouts(sql: postgres.Sql, merchantId: string, n: number): Promise<number> {
  const rows = await sql`
    with pick as (
      select checkout_id from payment_orders where merchant_id = ${merchantId} and status = 'FAILED'
        and created_at between now() - interval '27 hours' and now() - interval '25 hours' limit ${n}),
    c as (update checkouts set status = 'open' where id in (select checkout_id from pick) returning 1)
    update payment_orders set status = 'NOT_STARTED', failure_code = null, failure_message = null where checkout_id in (select checkout_id from pick) returning 1`;
  return rows.length;
}
