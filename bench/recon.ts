/**
 * `npm run bench:recon -- --rows N` — reconciliation throughput: N Stripe card payments on our side, the Stripe
 * itemized payout reconciliation report (CSV, STRIPE_REPORT_COLUMNS of sandbox/settlement.ts) for them with ~0.1%
 * deliberate discrepancies, then on the same database:
 *   import  importStripeReportCsv (server/reconciliation/imports), the file streamed from disk (a source it can open
 *           again: hashed in a first pass for its import key, then the staged COPY path);
 *   match   runReconciliation (server/reconciliation/run.ts): the set-based matcher, case sync and invariants;
 *   floor   COPY of the same rows (same columns) into an unindexed table plus ONE hash join against the expected
 *           side (payment_attempts on psp_reference; merge and nested-loop joins off) — what any import + match must
 *           at least pay on this machine;
 *   pgbench TPC-B-like on the same server, for the ratio column (as bench/payouts.ts).
 * The run fails (exit 1) when the cases opened differ from the discrepancies injected. It prints PASS/FAIL against
 * the issue's targets: import + match under 30 s for 1,000,000 rows, and within 3x the floor.
 * Runs on a throwaway embedded Postgres (fast mode) in a temp dir, stopped and removed at the end.
 * The expected side is seeded set-based by bench/recon-seed.sql (read at run time; its header says why it is a .sql
 * file: it writes final `status` values directly, which server/architecture.test.ts forbids in .ts sources outside
 * the state machines) — merchants, sellers, checkouts, payment orders and payment attempts.
 * Flags: --rows N (default 1,000,000), --merchants M (default 100), --pgbench-seconds S (default 10; 0 skips it),
 * --pgbench PATH, --keep-csv (leave the CSV in the temp dir and print its path), --explain MS (auto_explain: print the
 * plan with actual times of every statement of the import and match slower than MS ms). Not part of `npm test`.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import type postgres from "postgres";
import { createDb, type Db, type DbHandle } from "../db/client";
import { ensureDatabase, startEmbeddedPostgres } from "../db/embedded";
import { runMigrations } from "../db/migrate";
import { formatMinor } from "../sandbox/minor-units";
import { STRIPE_REPORT_COLUMNS } from "../sandbox/settlement";
import { cardFee } from "../sandbox/stripe/context";
import { encryptField } from "../server/crypto/field";
import { importStripeReportCsv } from "../server/reconciliation/imports";
import { runReconciliation } from "../server/reconciliation/run";
import { MATCH_CASE_TYPES } from "../server/reconciliation/types";
import { arg } from "./card-flow";
import { findPgbench, pgbenchSweep, PGBENCH_SCALE, table } from "./pgbench";

const ROWS_DEFAULT = 1_000_000;
const MERCHANTS_DEFAULT = 100;
const PGBENCH_SECONDS_DEFAULT = 10;
/** The issue's targets: import + match of 1,000,000 rows under 30 s, within 3x the floor. */
const TARGET_SECONDS_PER_MILLION = 30;
const TARGET_FLOOR_RATIO = 3;
/** One payment in DISCREPANCY_EVERY carries a discrepancy (0.1%), the kinds in turn. */
const DISCREPANCY_EVERY = 1000;
/** The kinds injected, in turn; `status` is seeded on our side (bench/recon-seed.sql: attempt failed, PSP charged). */
const KINDS = ["missing_row", "amount_off", "fee_off", "duplicate_row", "extra_row", "currency_off", "status"] as const;
type Kind = (typeof KINDS)[number];
/** The case each kind must open (one case per discrepancy). */
const CASE_OF: Record<Kind, (typeof MATCH_CASE_TYPES)[number]> = {
  missing_row: "missing_at_psp",
  amount_off: "amount_mismatch",
  fee_off: "fee_mismatch",
  duplicate_row: "duplicate",
  extra_row: "missing_in_ledger",
  currency_off: "currency_mismatch",
  status: "status_mismatch",
};
const AMOUNT_OFF_MINOR = 100;
const FEE_OFF_MINOR = 7;
/** Payments happened between 5 and 4 days before the run: past the 72 h SLA, so a missing row is missing_at_psp. */
const SPAN_MS = 24 * 3600 * 1000;
const AGE_MS = 5 * 24 * 3600 * 1000;
const AVAILABLE_AFTER_S = 2 * 24 * 3600;
/** Lines per write to the CSV file. */
const CSV_CHUNK = 10_000;
const HERE = path.dirname(fileURLToPath(import.meta.url));

function nonNegativeInt(name: string, fallback: number): number {
  const v = arg(name);
  if (v === undefined) return fallback;
  const n = Number(v.replace(/[_,]/g, ""));
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
  return n;
}

/** Payment g's amount in cents: the same formula as bench/recon-seed.sql. */
const amountOf = (g: number) => 1000 + ((g * 7919) % 99000);
const pad = (g: number) => String(g).padStart(10, "0");
const kindOf = (g: number): Kind | undefined => (g % DISCREPANCY_EVERY === 0 ? KINDS[(g / DISCREPANCY_EVERY - 1) % KINDS.length] : undefined);

/** The postgres.js client under Drizzle (drizzle() sets `$client`; the Db type does not say so): COPY and SET LOCAL. */
const pgClient = (db: Db): postgres.Sql => (db as Db & { $client: postgres.Sql }).$client;


/** The expected side, set-based, from bench/recon-seed.sql (see its header). */
async function seed(db: Db, rows: number, merchants: number, t0Ms: number, stepMs: number): Promise<void> {
  const statusIndex = KINDS.indexOf("status");
  const text = (await readFile(path.join(HERE, "recon-seed.sql"), "utf8"))
    .replaceAll("{{rows}}", String(rows))
    .replaceAll("{{merchants}}", String(merchants))
    .replaceAll("{{t0}}", (t0Ms / 1000).toFixed(3))
    .replaceAll("{{step_ms}}", stepMs.toFixed(6))
    .replaceAll("{{every}}", String(DISCREPANCY_EVERY))
    .replaceAll("{{kinds}}", String(KINDS.length))
    .replaceAll("{{status_kind}}", String(statusIndex))
    .replaceAll("{{buyer}}", `'${encryptField(JSON.stringify({ email: "bench@example.com", name: "Bench Buyer" })).replace(/'/g, "''")}'`);
  if (/\{\{\w+\}\}/.test(text)) throw new Error(`bench/recon-seed.sql has a token bench/recon.ts does not fill: ${/\{\{\w+\}\}/.exec(text)![0]}`);
  const statements = text
    .split(/^--;$/m)
    .map((s) => s.replace(/^--.*$/gm, "").trim())
    .filter((s) => s.length > 0);
  await pgClient(db).begin(async (tx) => {
    for (const s of statements) await tx.unsafe(s);
  });
}

const utc = (ms: number) => new Date(ms).toISOString().replace("T", " ").slice(0, 19);

/** The report for payments 1..rows with the discrepancies of kindOf; returns the count of each kind injected. */
async function writeReport(file: string, rows: number, t0Ms: number, stepMs: number): Promise<Record<Kind, number>> {
  const injected = Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<Kind, number>;
  const out = createWriteStream(file);
  const write = (s: string) => (out.write(s) ? Promise.resolve() : new Promise<void>((r) => out.once("drain", () => r())));
  const line = (txn: string, atMs: number, currency: string, gross: number, fee: number, source: string, pi: string) =>
    `${txn},${utc(atMs)},${utc(atMs + AVAILABLE_AFTER_S * 1000)},${currency},${formatMinor(gross, currency)},${formatMinor(fee, currency)},${formatMinor(gross - fee, currency)},charge,${source},po_bench${utc(atMs).slice(0, 10).replaceAll("-", "")},${pi}\n`;
  await write(`${STRIPE_REPORT_COLUMNS.join(",")}\n`);
  let chunk: string[] = [];
  for (let g = 1; g <= rows; g++) {
    const kind = kindOf(g);
    if (kind) injected[kind]++;
    const at = t0Ms + g * stepMs;
    const amount = amountOf(g);
    const fee = cardFee(amount);
    const txn = `txn_bench${pad(g)}`;
    const ch = `ch_bench${pad(g)}`;
    const pi = `pi_bench${pad(g)}`;
    if (kind === "missing_row") {
      // nothing reported
    } else if (kind === "amount_off") {
      // As the sandbox's amount_off: gross and net move, the fee stays.
      chunk.push(line(txn, at, "usd", amount + AMOUNT_OFF_MINOR, fee, ch, pi));
    } else if (kind === "fee_off") {
      chunk.push(line(txn, at, "usd", amount, fee + FEE_OFF_MINOR, ch, pi));
    } else if (kind === "duplicate_row") {
      chunk.push(line(txn, at, "usd", amount, fee, ch, pi), line(txn, at, "usd", amount, fee, ch, pi));
    } else if (kind === "extra_row") {
      chunk.push(line(txn, at, "usd", amount, fee, ch, pi), line(`txn_benchx${pad(g)}`, at, "usd", amount, fee, `ch_benchx${pad(g)}`, `pi_benchx${pad(g)}`));
    } else if (kind === "currency_off") {
      chunk.push(line(txn, at, "eur", amount, fee, ch, pi));
    } else {
      // Clean, and `status`: the PSP charged it; our attempt failed (seeded so).
      chunk.push(line(txn, at, "usd", amount, fee, ch, pi));
    }
    if (chunk.length >= CSV_CHUNK) {
      await write(chunk.join(""));
      chunk = [];
    }
  }
  await write(chunk.join(""));
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return injected;
}

/** COPY the same file into an unindexed table with the report's columns, then one hash join against payment_attempts. */
async function floor(db: Db, file: string): Promise<{ seconds: number; copyS: number; joinS: number; rows: number; joined: number }> {
  const client = pgClient(db);
  await client.unsafe(`create unlogged table if not exists bench_floor_rows (
    balance_transaction_id text, created_utc timestamptz, available_on_utc timestamptz, currency text,
    gross numeric, fee numeric, net numeric, reporting_category text, source_id text, automatic_payout_id text,
    payment_intent_id text)`);
  await client.unsafe("truncate bench_floor_rows");
  const t0 = performance.now();
  const writable = await client.unsafe("copy bench_floor_rows from stdin with (format csv, header true)").writable();
  await pipeline(createReadStream(file), writable);
  const copyS = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const [r] = await client.begin(async (tx) => {
    await tx.unsafe("set local enable_mergejoin = off");
    await tx.unsafe("set local enable_nestloop = off");
    return tx.unsafe<{ rows: string; joined: string }[]>(`
      select (select count(*) from bench_floor_rows)::text as rows, count(*)::text as joined
      from bench_floor_rows f join payment_attempts a on a.psp = 'stripe' and a.psp_reference = f.payment_intent_id
      where (f.gross * 100)::bigint <> 0`);
  });
  const joinS = (performance.now() - t1) / 1000;
  return { seconds: copyS + joinS, copyS, joinS, rows: Number(r!.rows), joined: Number(r!.joined) };
}



async function openCasesByType(db: Db): Promise<Map<string, number>> {
  const rows = await db.execute<{ type: string; n: number }>(sql`select type::text as type, count(*)::int as n from recon_cases where status <> 'resolved' group by type order by type`);
  return new Map([...rows].map((r) => [r.type, r.n]));
}

const timed = async <T>(f: () => Promise<T>): Promise<{ value: T; seconds: number }> => {
  const t0 = performance.now();
  const value = await f();
  return { value, seconds: (performance.now() - t0) / 1000 };
};

async function main(): Promise<void> {
  const rows = nonNegativeInt("--rows", ROWS_DEFAULT);
  if (rows < DISCREPANCY_EVERY * KINDS.length) throw new Error(`--rows must be at least ${DISCREPANCY_EVERY * KINDS.length} (one discrepancy of each kind)`);
  const merchants = Math.max(1, Math.min(rows, nonNegativeInt("--merchants", MERCHANTS_DEFAULT)));
  const pgbenchSeconds = nonNegativeInt("--pgbench-seconds", PGBENCH_SECONDS_DEFAULT);
  const keepCsv = process.argv.includes("--keep-csv");
  const explainMs = arg("--explain") === undefined ? undefined : nonNegativeInt("--explain", 0);
  const tmp = await mkdtemp(path.join(os.tmpdir(), "paybridge-bench-recon-"));
  const pgLog: string[] = [];
  const pg = await startEmbeddedPostgres({ dir: path.join(tmp, "pg"), fast: true, log: (line) => explainMs !== undefined && pgLog.push(line) });
  let handle: DbHandle | undefined;
  try {
    await ensureDatabase(pg.url, "bench");
    await runMigrations(pg.databaseUrl("bench"));
    handle = createDb(pg.databaseUrl("bench"));
    let db = handle.db;
    const now = Date.now();
    const t0Ms = now - AGE_MS;
    const stepMs = SPAN_MS / rows;

    const seeded = await timed(() => seed(db, rows, merchants, t0Ms, stepMs));
    const csvFile = path.join(tmp, "payout_reconciliation.itemized.5.csv");
    const report = await timed(() => writeReport(csvFile, rows, t0Ms, stepMs));
    const injected = report.value;
    const csvBytes = (await stat(csvFile)).size;
    const csvRows = rows - injected.missing_row + injected.duplicate_row + injected.extra_row;
    console.error(`seeded ${rows} payments of ${merchants} merchants in ${seeded.seconds.toFixed(1)} s (set-based); report ${csvRows} rows, ${(csvBytes / 1e6).toFixed(1)} MB in ${report.seconds.toFixed(1)} s`);
    console.error(`injected: ${KINDS.map((k) => `${k} ${injected[k]}`).join(", ")}`);
    await db.execute(sql`checkpoint`);

    if (explainMs !== undefined) {
      // New connections of this database load auto_explain: every statement slower than explainMs is logged with its plan.
      await db.execute(sql.raw(`alter database bench set session_preload_libraries = 'auto_explain'`));
      for (const [k, v] of [["log_min_duration", String(explainMs)], ["log_analyze", "on"], ["log_buffers", "on"], ["log_nested_statements", "on"]])
        await db.execute(sql.raw(`alter database bench set auto_explain.${k} = '${v}'`));
      await handle.close();
      handle = createDb(pg.databaseUrl("bench"));
      db = handle.db;
      pgLog.length = 0;
    }
    console.error("import…");
    const imported = await timed(() => importStripeReportCsv(db, { csv: () => createReadStream(csvFile), label: path.basename(csvFile) }));
    if (imported.value.rowsAdded !== csvRows) throw new Error(`import added ${imported.value.rowsAdded} rows; the report has ${csvRows}`);

    console.error("match…");
    const matched = await timed(() => runReconciliation(db, { asOf: new Date(), label: "bench:recon", invariants: false }));
    const cases = await openCasesByType(db);
    if (explainMs !== undefined) {
      console.log(`\nstatements of the import and the match slower than ${explainMs} ms (auto_explain):\n`);
      console.log(pgLog.filter((l) => !/checkpoint/.test(l)).join("\n"));
      await db.execute(sql.raw("alter database bench reset all"));
    }

    // Idempotency, for the record: the same file again adds nothing; a second run opens nothing.
    const reimport = await timed(() => importStripeReportCsv(db, { csv: () => createReadStream(csvFile), label: path.basename(csvFile) }));
    const rematch = await timed(() => runReconciliation(db, { asOf: new Date(), label: "bench:recon rerun", invariants: false }));

    console.error("floor (COPY + one hash join)…");
    const fl = await floor(db, csvFile);
    if (fl.rows !== csvRows) throw new Error(`floor COPY loaded ${fl.rows} rows; the report has ${csvRows}`);

    console.error(`pgbench (${pgbenchSeconds} s per client count 1/8/32, scale ${PGBENCH_SCALE}) on the same server…`);
    await ensureDatabase(pg.url, "pgbench");
    const sweep = pgbenchSweep(findPgbench(), pg.databaseUrl("pgbench"), pgbenchSeconds);
    const pgb = "best" in sweep ? { tps: sweep.best } : sweep;

    const total = imported.seconds + matched.seconds;
    const ratio = total / fl.seconds;
    const rps = (n: number, s: number) => (n / s).toFixed(0);
    const tps = "tps" in pgb ? pgb.tps : undefined;
    const vsPgbench = (n: number, s: number) => (tps ? (n / s / tps).toFixed(1) : "n/a");
    const head = ["phase", "rows", "seconds", "rows/s", "rows/s : pgbench best tps"];
    const body = [
      ["import (importStripeReportCsv)", String(csvRows), imported.seconds.toFixed(2), rps(csvRows, imported.seconds), vsPgbench(csvRows, imported.seconds)],
      ["match (runReconciliation)", String(matched.value.rows), matched.seconds.toFixed(2), rps(matched.value.rows, matched.seconds), vsPgbench(matched.value.rows, matched.seconds)],
      ["import + match", String(csvRows), total.toFixed(2), rps(csvRows, total), vsPgbench(csvRows, total)],
      ["floor: COPY", String(fl.rows), fl.copyS.toFixed(2), rps(fl.rows, fl.copyS), vsPgbench(fl.rows, fl.copyS)],
      ["floor: one hash join", String(fl.rows), fl.joinS.toFixed(2), rps(fl.rows, fl.joinS), vsPgbench(fl.rows, fl.joinS)],
      ["floor: COPY + join", String(fl.rows), fl.seconds.toFixed(2), rps(fl.rows, fl.seconds), vsPgbench(fl.rows, fl.seconds)],
      ["re-import (same file)", String(reimport.value.rowsAdded), reimport.seconds.toFixed(2), "-", "-"],
      ["re-match (nothing new)", String(rematch.value.rows), rematch.seconds.toFixed(2), rps(rematch.value.rows, rematch.seconds), "-"],
    ];
    console.log(`\nreconciliation, ${rows} card payments, Stripe report of ${csvRows} rows (embedded Postgres fsync=off, ${os.availableParallelism()} cores, pgbench best ${tps ? `${tps.toFixed(0)} tps` : "n/a"})\n`);
    console.log(table(head, body));
    if ("runs" in sweep) console.log(`\npgbench tpcb-like on the same server, same run\n\n${table(["clients", "tps"], sweep.runs.map((r) => [String(r.clients), r.tps.toFixed(0)]))}`);
    else console.log(`\npgbench skipped: ${sweep.skipped}`);

    const expectedCases = KINDS.map((k) => [CASE_OF[k], injected[k]] as const);
    const caseRows = expectedCases.map(([type, n]) => [type, String(n), String(cases.get(type) ?? 0)]);
    const others = [...cases.entries()].filter(([type]) => !expectedCases.some(([t]) => t === type));
    for (const [type, n] of others) caseRows.push([type, "0", String(n)]);
    console.log(`\ncases: injected vs open after the run (opened ${matched.value.opened}; the rerun opened ${rematch.value.opened}, resolved ${rematch.value.resolved})\n`);
    console.log(table(["case type", "injected", "open"], caseRows));

    const targetS = (TARGET_SECONDS_PER_MILLION * rows) / 1_000_000;
    const timeOk = total < targetS;
    const ratioOk = ratio <= TARGET_FLOOR_RATIO;
    console.log(`\nimport + match ${total.toFixed(2)} s vs target ${targetS.toFixed(1)} s (30 s per 1,000,000 rows): ${timeOk ? "PASS" : "FAIL"}`);
    console.log(`import + match : floor = ${ratio.toFixed(2)}x vs target <= ${TARGET_FLOOR_RATIO}x: ${ratioOk ? "PASS" : "FAIL"}`);
    if (!("tps" in pgb)) console.log(`pgbench skipped: ${pgb.skipped}`);
    if (keepCsv) console.log(`CSV kept: ${csvFile}`);

    const wrong = caseRows.filter(([, want, got]) => want !== got);
    if (wrong.length > 0 || reimport.value.rowsAdded !== 0 || rematch.value.opened !== 0) {
      throw new Error(
        `cases do not match the injected discrepancies: ${wrong.map(([t, w, g]) => `${t} injected ${w}, open ${g}`).join("; ") || "none"}; re-import added ${reimport.value.rowsAdded}; rerun opened ${rematch.value.opened}`,
      );
    }
  } finally {
    await handle?.close();
    await pg.stop();
    await rm(keepCsv ? path.join(tmp, "pg") : tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
