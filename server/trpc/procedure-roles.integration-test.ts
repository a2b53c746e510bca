import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "@/server/errors";
import { callerFor, createMerchant, createUser } from "@/test/fixtures";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { PROCEDURE_ROLES, type ProcedureRole } from "./procedure-roles";
import { appRouter } from "./root";

// The authorization table, checked against the running middleware: every procedure is called as every kind of
// caller, and must refuse exactly the callers its entry in PROCEDURE_ROLES leaves out. The call's input is
// deliberately invalid (null): authorization runs before input parsing, so a refused caller is refused on who they
// are, and an allowed one gets as far as the input check (or, for a procedure without input, runs it).

type CallerKind = "anonymous" | "no_membership" | "merchant_viewer" | "merchant_admin" | "ops";
const CALLERS: CallerKind[] = ["anonymous", "no_membership", "merchant_viewer", "merchant_admin", "ops"];

const ALLOWED: Record<ProcedureRole, CallerKind[]> = {
  public: CALLERS,
  authed: ["no_membership", "merchant_viewer", "merchant_admin", "ops"],
  merchant_viewer: ["merchant_viewer", "merchant_admin"],
  merchant_admin: ["merchant_admin"],
  ops: ["ops"],
};

let t: TestDatabase;
const userIds: Partial<Record<CallerKind, string | null>> = { anonymous: null };

beforeAll(async () => {
  t = await createTestDatabase();
  const merchant = await createMerchant(t.db, "Roles Table Ltd");
  userIds.no_membership = (await createUser(t.db)).id;
  userIds.merchant_viewer = (await createUser(t.db, { merchantId: merchant.id, role: "merchant_viewer" })).id;
  userIds.merchant_admin = (await createUser(t.db, { merchantId: merchant.id, role: "merchant_admin" })).id;
  userIds.ops = (await createUser(t.db, { ops: true })).id;
});
afterAll(async () => t?.drop());

const procedurePaths = () => Object.keys(appRouter._def.procedures).sort();

/** Whether an error is the middleware refusing this caller (not the procedure failing on its input or its work). */
function isRefusal(e: unknown): boolean {
  const cause = (e as { cause?: unknown }).cause;
  if (!(cause instanceof AppError)) return false;
  if (cause.code === "unauthenticated" || cause.code === "forbidden") return true;
  // A signed-in user with no membership of the merchant (server/auth/access.ts resolveMerchantScope).
  return cause.code === "not_found" && cause.message === "Merchant not found";
}

async function callAs(kind: CallerKind, path: string): Promise<{ refused: boolean; error?: unknown }> {
  let fn: unknown = callerFor(t.db, userIds[kind] ?? null);
  for (const part of path.split(".")) fn = (fn as Record<string, unknown>)[part];
  try {
    await (fn as (input: unknown) => Promise<unknown>)(null);
    return { refused: false };
  } catch (e) {
    return { refused: isRefusal(e), error: e };
  }
}

describe("the authorization table", () => {
  it("names every tRPC procedure, and nothing that is not one", () => {
    const paths = procedurePaths();
    expect(paths.filter((p) => !(p in PROCEDURE_ROLES)), "procedures without an entry in server/trpc/procedure-roles.ts").toEqual([]);
    expect(Object.keys(PROCEDURE_ROLES).filter((p) => !paths.includes(p)), "entries naming no procedure").toEqual([]);
  });

  it("holds for every procedure and every kind of caller", async () => {
    const mismatches: string[] = [];
    for (const path of procedurePaths()) {
      const role = PROCEDURE_ROLES[path];
      if (!role) continue;
      for (const kind of CALLERS) {
        const expectAllowed = ALLOWED[role].includes(kind);
        const { refused, error } = await callAs(kind, path);
        if (refused === expectAllowed) {
          mismatches.push(`${path} as ${kind}: expected ${expectAllowed ? "allowed" : "refused"}, got ${refused ? "refused" : "allowed"}${error ? ` (${(error as Error).message})` : ""}`);
        }
      }
    }
    expect(mismatches).toEqual([]);
  });
});
