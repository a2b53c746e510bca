// pgbench beside a bench, and the printed table: shared by the benches (bench/ledger.ts, bench/payouts.ts, bench/recon.ts) so the
// ratio column of every bench is read against the same TPC-B-like run.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { arg } from "./card-flow";

export const PGBENCH_SCALE = 10;
export const PGBENCH_CLIENTS = 8;

export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join(" | ")} |`;
  return [line(head), `|${widths.map((w, i) => (i === 0 ? "-".repeat(w + 2) : `${"-".repeat(w + 1)}:`)).join("|")}|`, ...rows.map(line)].join("\n");
}

export function findPgbench(): string | undefined {
  const given = arg("--pgbench");
  if (given) return given;
  const onPath = spawnSync("pgbench", ["--version"], { encoding: "utf8" });
  if (onPath.status === 0) return "pgbench";
  const base = "/usr/lib/postgresql";
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base).sort((a, b) => Number(b) - Number(a));
  return versions.map((v) => path.join(base, v, "bin/pgbench")).find((p) => existsSync(p));
}

/** TPC-B-like transactions/s on the same server (its own database), or why not. */
export function pgbench(bin: string | undefined, url: string, seconds: number, clients = PGBENCH_CLIENTS): { tps: number } | { skipped: string } {
  if (!bin) return { skipped: "pgbench not found (--pgbench PATH)" };
  if (seconds === 0) return { skipped: "--pgbench-seconds 0" };
  const init = spawnSync(bin, ["-i", "-q", "-s", String(PGBENCH_SCALE), url], { encoding: "utf8" });
  if (init.status !== 0) return { skipped: `pgbench -i failed: ${init.stderr.trim().split("\n").at(-1)}` };
  const jobs = Math.max(1, Math.min(clients, os.availableParallelism()));
  const run = spawnSync(bin, ["-n", "-c", String(clients), "-j", String(jobs), "-T", String(seconds), url], { encoding: "utf8" });
  const m = /tps = ([\d.]+)/.exec(run.stdout);
  if (run.status !== 0 || !m) return { skipped: `pgbench failed: ${(run.stderr || run.stdout).trim().split("\n").at(-1)}` };
  return { tps: Number(m[1]) };
}

/**
 * pgbench at 1, 8 and 32 clients (a fresh `-i` before each, so no run inherits another's bloat), and the best of
 * them: the figure every bench ratio of issue 15 is read against.
 */
export function pgbenchSweep(bin: string | undefined, url: string, seconds: number, clients: readonly number[] = [1, 8, 32]): { runs: { clients: number; tps: number }[]; best: number } | { skipped: string } {
  const runs: { clients: number; tps: number }[] = [];
  for (const c of clients) {
    const r = pgbench(bin, url, seconds, c);
    if ("skipped" in r) return r;
    runs.push({ clients: c, tps: r.tps });
  }
  return { runs, best: Math.max(...runs.map((r) => r.tps)) };
}

/** "0.07×" — a figure as a ratio to pgbench's best tps, or "-" when pgbench did not run. */
export function ratio(value: number, pgbenchBest: number | undefined): string {
  if (pgbenchBest === undefined || pgbenchBest <= 0) return "-";
  const r = value / pgbenchBest;
  // Two significant digits below 0.01 (an end-to-end checkout is many transactions): "0.00×" would say nothing.
  return `${r >= 0.01 || r === 0 ? r.toFixed(2) : r.toPrecision(2)}×`;
}
