// The layering rules of docs/architecture.md, checked on the source (a rule nobody checks erodes):
//  - no import cycle among server/ files;
//  - (nothing under server/ reaches the Inngest SDK: server/events/sdk-boundary.test.ts)
//  - db/ is a leaf (imports nothing of server/, app/, inngest/, components/); components/ never import app/;
//  - every `status` column is written by one file only: its entity's state machine.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "..");
const EXTENSIONS = [".ts", ".tsx", ".js"];
const isTest = (f: string) => /\.(test|integration-test|spec)\.tsx?$/.test(f);

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(path.join(ROOT, dir))) {
    const rel = path.join(dir, name);
    if (statSync(path.join(ROOT, rel)).isDirectory()) out.push(...sourceFiles(rel));
    else if (EXTENSIONS.some((e) => name.endsWith(e)) && !name.endsWith(".d.ts") && !isTest(name)) out.push(rel);
  }
  return out;
}

/** Module specifiers a file imports or re-exports (static, dynamic, type-only alike). */
function specifiers(file: string): string[] {
  const src = readFileSync(path.join(ROOT, file), "utf8");
  const out: string[] = [];
  const re = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+["']([^"']+)["']|(?:^|\n)\s*import\s+["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/g;
  for (const m of src.matchAll(re)) out.push((m[1] ?? m[2] ?? m[3])!);
  return out;
}

/** The repo file a specifier names, or null for a package. */
function resolve(from: string, spec: string): string | null {
  let base: string;
  if (spec.startsWith("@/")) base = spec.slice(2);
  else if (spec.startsWith(".")) base = path.join(path.dirname(from), spec);
  else return null;
  const candidates = [base, ...EXTENSIONS.map((e) => base + e), ...EXTENSIONS.map((e) => path.join(base, "index" + e))];
  const hit = candidates.find((c) => existsSync(path.join(ROOT, c)) && statSync(path.join(ROOT, c)).isFile());
  if (!hit) throw new Error(`${from}: cannot resolve ${spec}`);
  return hit;
}

function graph(files: string[]): Map<string, string[]> {
  return new Map(files.map((f) => [f, specifiers(f).map((s) => resolve(f, s)).filter((x): x is string => x !== null)]));
}

function findCycle(g: Map<string, string[]>, scope: (f: string) => boolean): string[] | null {
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (f: string): string[] | null => {
    if (state.get(f) === "done") return null;
    if (state.get(f) === "open") return [...stack.slice(stack.indexOf(f)), f];
    state.set(f, "open");
    stack.push(f);
    for (const next of g.get(f) ?? []) {
      if (!scope(next)) continue;
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(f, "done");
    return null;
  };
  for (const f of g.keys()) {
    if (!scope(f)) continue;
    const cycle = visit(f);
    if (cycle) return cycle;
  }
  return null;
}

const ALL = ["server", "db", "app", "components", "inngest", "scripts", "sandbox", "lib"].filter((d) => existsSync(path.join(ROOT, d))).flatMap(sourceFiles);
const G = graph(ALL);
const under = (dir: string) => (f: string) => f.startsWith(dir + path.sep);

describe("layers", () => {
  it("no import cycle among server/ files", () => {
    expect(findCycle(G, under("server"))).toBeNull();
  });

  it("db/ is a leaf and components/ never import app/", () => {
    const outsideDb = ["server", "app", "inngest", "components", "scripts"].map(under);
    const bad = [...G.entries()].flatMap(([f, deps]) => deps.filter((d) => (under("db")(f) && outsideDb.some((o) => o(d))) || (under("components")(f) && under("app")(d))).map((d) => `${f} -> ${d}`));
    expect(bad).toEqual([]);
  });
});

/** Which file may write each table's `status` column (Drizzle table identifier -> file). */
const STATUS_WRITERS: Record<string, string> = {
  checkouts: "server/payments/checkout-state.ts",
  paymentAttempts: "server/payments/attempt-state.ts",
  paymentOrders: "server/payments/state-machine.ts",
  doubleCharges: "server/payments/double-charges.ts",
  pspEvents: "server/webhooks/psp-event-store.ts",
  webhookDeliveries: "server/webhooks-out/deliveries.ts",
  walletHolds: "server/wallet/holds.ts",
};
const SQL_TABLES: Record<string, string> = { checkouts: "checkouts", payment_attempts: "paymentAttempts", payment_orders: "paymentOrders", double_charges: "doubleCharges", psp_events: "pspEvents", webhook_deliveries: "webhookDeliveries", wallet_holds: "walletHolds" };

/** The text of a Drizzle call chain from `.update(table)` / `.insert(table)` to the end of its statement. */
function statusWrites(file: string): string[] {
  const src = readFileSync(path.join(ROOT, file), "utf8");
  const found: string[] = [];
  for (const m of src.matchAll(/\.(update|insert)\(\s*(\w+)\s*\)/g)) {
    const table = m[2]!;
    if (!(table in STATUS_WRITERS)) continue;
    const rest = src.slice(m.index! + m[0].length);
    const end = rest.search(/\.where\(|\.returning\(|\.onConflict|;\s*\n/);
    const chain = end < 0 ? rest : rest.slice(0, end);
    if (/\bstatus\s*:/.test(chain) || /\.set\(\s*\{[^}]*\bstatus\b[,}]/.test(chain)) found.push(table);
  }
  for (const m of src.matchAll(/\b(update|insert\s+into)\s+"?(\w+)"?\s+(?:set\s+[^`;]*?\bstatus\s*=|\([^)]*\bstatus\b)/gi)) {
    const table = SQL_TABLES[m[2]!.toLowerCase()];
    if (table) found.push(table);
  }
  return found;
}

describe("state machines", () => {
  it("every status column is written only by its state machine", () => {
    const bad = ALL.flatMap((f) => statusWrites(f).filter((table) => STATUS_WRITERS[table] !== f).map((table) => `${f} writes ${table}.status`));
    expect(bad).toEqual([]);
  });

  it("the scan finds the writes it guards (it cannot pass by seeing nothing)", () => {
    for (const [table, file] of Object.entries(STATUS_WRITERS)) expect(statusWrites(file), `${file} should write ${table}.status`).toContain(table);
  });
});
