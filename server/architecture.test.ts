// The layering rules of docs/architecture.md, checked on the source (a rule nobody checks erodes):
//  - no import cycle among server/ files;
//  - (nothing under server/ reaches the Inngest SDK: server/events/sdk-boundary.test.ts)
//  - db/ is a leaf (imports nothing of server/, app/, inngest/, components/); components/ never import app/;
//  - every `status` column is written by one file only: its entity's state machine.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import ts from "typescript";
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

const ROOT_FILES = readdirSync(ROOT).filter((f) => EXTENSIONS.some((e) => f.endsWith(e)) && !f.endsWith(".d.ts") && !isTest(f) && statSync(path.join(ROOT, f)).isFile());
const ALL = [...ROOT_FILES, ...["server", "db", "app", "components", "inngest", "scripts", "sandbox", "lib", "bench", "config"].filter((d) => existsSync(path.join(ROOT, d))).flatMap(sourceFiles)];
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
  opsExceptions: "server/exceptions/exception-state.ts",
  refunds: "server/refunds/state-machine.ts",
  disputes: "server/disputes/state-machine.ts",
  payouts: "server/payouts/state-machine.ts",
  reconImports: "server/reconciliation/imports/record.ts",
  reconCases: "server/reconciliation/case-state.ts",
  reconAdjustments: "server/reconciliation/adjustments.ts",
};
const SQL_TABLES: Record<string, string> = { checkouts: "checkouts", payment_attempts: "paymentAttempts", payment_orders: "paymentOrders", double_charges: "doubleCharges", psp_events: "pspEvents", webhook_deliveries: "webhookDeliveries", wallet_holds: "walletHolds", ops_exceptions: "opsExceptions", refunds: "refunds", disputes: "disputes", payouts: "payouts", recon_imports: "reconImports", recon_cases: "reconCases", recon_adjustments: "reconAdjustments" };

const nameOf = (n: ts.PropertyName | ts.Expression): string | undefined => (ts.isIdentifier(n) || ts.isStringLiteralLike(n) || ts.isPrivateIdentifier(n) ? n.text : undefined);

/** Whether a `.set(...)` argument may write `status`: a `status` key, a spread or anything but an object literal. */
function setMayWriteStatus(arg: ts.Expression | undefined): boolean {
  if (!arg || !ts.isObjectLiteralExpression(arg)) return true;
  return arg.properties.some((p) => ts.isSpreadAssignment(p) || (p.name !== undefined && nameOf(p.name) === "status"));
}

/** Whether a `.values(...)` argument names `status` anywhere (an insert otherwise gets the column's default). */
function valuesWriteStatus(arg: ts.Node | undefined): boolean {
  let hit = false;
  const visit = (n: ts.Node) => {
    if ((ts.isPropertyAssignment(n) || ts.isShorthandPropertyAssignment(n)) && nameOf(n.name) === "status") hit = true;
    if (!hit) ts.forEachChild(n, visit);
  };
  if (arg) visit(arg);
  return hit;
}

/** SQL text in a string or template literal, with `${x.y}` kept as the name `y`. */
function sqlText(n: ts.Node): string | undefined {
  if (ts.isNoSubstitutionTemplateLiteral(n) || ts.isStringLiteral(n)) return n.text;
  if (!ts.isTemplateExpression(n)) return undefined;
  const last = (e: ts.Expression) => (ts.isPropertyAccessExpression(e) ? e.name.text : ts.isIdentifier(e) ? e.text : "expr");
  return n.head.text + n.templateSpans.map((s) => `"${last(s.expression)}"${s.literal.text}`).join("");
}

const SQL_UPDATE = /\bupdate\s+(?:only\s+)?(?:"?public"?\.)?"?(\w+)"?(?:\s+(?:as\s+)?(?!set\b)\w+)?\s+set\b([\s\S]*?)(?:\bwhere\b|\breturning\b|\bfrom\b|$)/gi;
const SQL_INSERT = /\binsert\s+into\s+(?:"?public"?\.)?"?(\w+)"?\s*\(([^)]*)\)/gi;
const SQL_STATUS = /(?:^|[\s,(])(?:\w+\.)?"?status"?\s*(?:=|,|\)|$)/i;

/** The tables whose `status` a source file writes (Drizzle `.update(t).set`, `.insert(t).values`, or SQL text). */
export function statusWritesIn(fileName: string, src: string): string[] {
  const sf = ts.createSourceFile(fileName, src, ts.ScriptTarget.Latest, true, fileName.endsWith(".tsx") ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const aliases = new Map<string, string>(Object.keys(STATUS_WRITERS).map((t) => [t, t]));
  const found: string[] = [];
  const tableOf = (e: ts.Expression | undefined): string | undefined => {
    if (!e) return undefined;
    const name = ts.isIdentifier(e) ? e.text : ts.isPropertyAccessExpression(e) ? e.name.text : undefined;
    return name ? aliases.get(name) : undefined;
  };
  /** The table of the `.update(t)` / `.insert(t)` call a `.set` / `.values` call is chained on. */
  const writtenTable = (call: ts.CallExpression, verb: "update" | "insert"): string | undefined => {
    let e: ts.Expression = (call.expression as ts.PropertyAccessExpression).expression;
    while (ts.isCallExpression(e) || ts.isPropertyAccessExpression(e) || ts.isAwaitExpression(e) || ts.isParenthesizedExpression(e)) {
      if (ts.isCallExpression(e) && ts.isPropertyAccessExpression(e.expression) && e.expression.name.text === verb) return tableOf(e.arguments[0]);
      e = ts.isCallExpression(e) ? e.expression : ts.isPropertyAccessExpression(e) ? e.expression : e.expression;
    }
    return undefined;
  };
  const visit = (n: ts.Node) => {
    if (ts.isImportSpecifier(n) && n.propertyName && aliases.has(nameOf(n.propertyName) ?? "")) aliases.set(n.name.text, aliases.get(nameOf(n.propertyName)!)!);
    if (ts.isCallExpression(n) && ts.isPropertyAccessExpression(n.expression)) {
      const method = n.expression.name.text;
      if (method === "set") {
        const t = writtenTable(n, "update");
        if (t && setMayWriteStatus(n.arguments[0])) found.push(t);
      } else if (method === "values") {
        const t = writtenTable(n, "insert");
        if (t && valuesWriteStatus(n.arguments[0])) found.push(t);
      }
    }
    const text = sqlText(n);
    if (text) {
      for (const m of text.matchAll(SQL_UPDATE)) if (SQL_STATUS.test(m[2]!)) found.push(SQL_TABLES[m[1]!.toLowerCase()] ?? aliases.get(m[1]!) ?? "");
      for (const m of text.matchAll(SQL_INSERT)) if (SQL_STATUS.test(m[2]!)) found.push(SQL_TABLES[m[1]!.toLowerCase()] ?? aliases.get(m[1]!) ?? "");
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return found.filter((t) => t !== "");
}

const statusWrites = (file: string) => statusWritesIn(file, readFileSync(path.join(ROOT, file), "utf8"));

describe("state machines", () => {
  it("every status column is written only by its state machine", () => {
    const bad = ALL.flatMap((f) => statusWrites(f).filter((table) => STATUS_WRITERS[table] !== f).map((table) => `${f} writes ${table}.status`));
    expect(bad).toEqual([]);
  });

  it("the scan finds the writes it guards (it cannot pass by seeing nothing)", () => {
    for (const [table, file] of Object.entries(STATUS_WRITERS)) expect(statusWrites(file), `${file} should write ${table}.status`).toContain(table);
  });

  it("the scan sees through the usual disguises of a status write", () => {
    const evasions: Record<string, string> = {
      "quoted key": `await tx.update(checkouts).set({ "status": "open" }).where(x);`,
      "patch variable": `const patch = { status: "open" }; await tx.update(checkouts).set(patch);`,
      spread: `await tx.update(checkouts).set({ ...patch }).where(x);`,
      "schema namespace": `await tx.update(schema.checkouts).set({ status: "open" });`,
      "aliased import": `import { checkouts as c } from "@/db/schema"; await tx.update(c).set({ status: "open" });`,
      "chained later": `await db.update(checkouts).set({ status: "open" }).where(eq(checkouts.id, id)).returning();`,
      "insert with status": `await tx.insert(checkouts).values([{ id, status: "completed" }]);`,
      "sql with table param": "await tx.execute(sql`update ${checkouts} set status = 'open' where id = ${id}`);",
      "sql alias": "await tx.execute(sql`update checkouts c set updated_at = now(), status = 'open'`);",
      "sql schema + quoted column": `await sql.unsafe('update public.payment_attempts set "status" = $1');`,
      "sql insert": "await tx.execute(sql`insert into payment_orders (id, status) values (${a}, 'SUCCESS')`);",
    };
    for (const [what, code] of Object.entries(evasions)) expect(statusWritesIn("x.ts", code).length, what).toBeGreaterThan(0);
    const harmless = `await tx.update(checkouts).set({ createdAt: d }).where(eq(checkouts.status, "open")); await tx.insert(checkouts).values({ ...row }); await tx.execute(sql\`update checkouts set created_at = now() where status = 'open'\`);`;
    expect(statusWritesIn("x.ts", harmless)).toEqual([]);
  });
});
