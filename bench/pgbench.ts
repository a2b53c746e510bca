// pgbench beside a bench, and the printed table: shared by the benches (bench/payouts.ts, bench/recon.ts) so the
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
export function pgbench(bin: string | undefined, url: string, seconds: number): { tps: number } | { skipped: string } {
  if (!bin) return { skipped: "pgbench not found (--pgbench PATH)" };
  if (seconds === 0) return { skipped: "--pgbench-seconds 0" };
  const init = spawnSync(bin, ["-i", "-q", "-s", String(PGBENCH_SCALE), url], { encoding: "utf8" });
  if (init.status !== 0) return { skipped: `pgbench -i failed: ${init.stderr.trim().split("\n").at(-1)}` };
  const jobs = Math.max(1, Math.min(PGBENCH_CLIENTS, os.availableParallelism()));
  const run = spawnSync(bin, ["-n", "-c", String(PGBENCH_CLIENTS), "-j", String(jobs), "-T", String(seconds), url], { encoding: "utf8" });
  const m = /tps = ([\d.]+)/.exec(run.stdout);
  if (run.status !== 0 || !m) return { skipped: `pgbench failed: ${(run.stderr || run.stdout).trim().split("\n").at(-1)}` };
  return { tps: Number(m[1]) };
}
