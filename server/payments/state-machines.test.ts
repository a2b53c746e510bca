// Walks every transition table of the pay-in entities: each state is listed, every move names a known state,
// the final states have no way out, every state is reachable from the initial one, and assertMove refuses
// exactly the moves the table does not list (with invalid_transition).
import { describe, expect, it } from "vitest";
import { checkoutStatus, paymentAttemptStatus, paymentOrderStatus, payoutStatus } from "@/db/schema";
import { PAYOUT_TRANSITIONS } from "@/server/payouts/state-machine";
import { AppError } from "@/server/errors";
import { assertMove, canMove, reachable, type TransitionTable } from "@/server/state-machine";
import { ATTEMPT_TRANSITIONS } from "./attempt-state";
import { CHECKOUT_TRANSITIONS } from "./checkout-state";
import { PAYMENT_ORDER_TRANSITIONS } from "./state-machine";

interface Machine {
  name: string;
  table: TransitionTable<string>;
  states: readonly string[];
  initial: string;
  finals: readonly string[];
}

const MACHINES: Machine[] = [
  { name: "Payment order", table: PAYMENT_ORDER_TRANSITIONS, states: paymentOrderStatus.enumValues, initial: "NOT_STARTED", finals: ["SUCCESS"] },
  { name: "Checkout", table: CHECKOUT_TRANSITIONS, states: checkoutStatus.enumValues, initial: "open", finals: ["completed", "blocked"] },
  { name: "Payment attempt", table: ATTEMPT_TRANSITIONS, states: paymentAttemptStatus.enumValues, initial: "created", finals: ["succeeded"] },
  { name: "Payout", table: PAYOUT_TRANSITIONS, states: payoutStatus.enumValues, initial: "pending_approval", finals: ["failed", "canceled"] },
];

describe.each(MACHINES)("$name state machine", (m) => {
  it("lists every status of the database enum, and only those", () => {
    expect(Object.keys(m.table).sort()).toEqual([...m.states].sort());
    for (const targets of Object.values(m.table)) for (const to of targets) expect(m.states).toContain(to);
  });

  it("has no self-loops and no duplicate moves", () => {
    for (const [from, targets] of Object.entries(m.table)) {
      expect(targets).not.toContain(from);
      expect(new Set(targets).size).toBe(targets.length);
    }
  });

  it("leaves the final states only by staying in them", () => {
    for (const s of m.states) expect(m.table[s]!.length === 0).toBe(m.finals.includes(s));
  });

  it("reaches every state from the initial one", () => {
    expect([...reachable(m.table, m.initial)].sort()).toEqual([...m.states].sort());
  });

  it("allows exactly the listed moves", () => {
    for (const from of m.states) {
      for (const to of m.states) {
        if (from === to) continue;
        const listed = m.table[from]!.includes(to);
        expect(canMove(m.table, from, to)).toBe(listed);
        if (listed) expect(() => assertMove(m.name, m.table, from, to)).not.toThrow();
        else expect(() => assertMove(m.name, m.table, from, to)).toThrow(expect.objectContaining({ code: "invalid_transition", details: { entity: m.name, from, to } }));
      }
    }
    expect(() => assertMove(m.name, m.table, m.finals[0]!, m.initial)).toThrow(AppError);
  });
});

describe("the money rules in the tables", () => {
  it("a payout whose PSP call may have left never goes back to be sent except through unknown (the PSP said it has none)", () => {
    for (const [from, targets] of Object.entries(PAYOUT_TRANSITIONS)) if (from !== "unknown" && from !== "pending_approval") expect(targets).not.toContain("pending");
    expect(PAYOUT_TRANSITIONS.failed).toEqual([]);
    expect(PAYOUT_TRANSITIONS.canceled).toEqual([]);
  });
  it("a success is final for orders and attempts; a checkout is paid once", () => {
    expect(PAYMENT_ORDER_TRANSITIONS.SUCCESS).toEqual([]);
    expect(ATTEMPT_TRANSITIONS.succeeded).toEqual([]);
    expect(CHECKOUT_TRANSITIONS.completed).toEqual([]);
  });
  it("a late success can still land on a failed or canceled attempt and on an expired checkout", () => {
    expect(ATTEMPT_TRANSITIONS.failed).toContain("succeeded");
    expect(ATTEMPT_TRANSITIONS.canceled).toContain("succeeded");
    expect(CHECKOUT_TRANSITIONS.failed).toEqual(["completed"]);
  });
  it("a blocked checkout never becomes payable", () => {
    expect(CHECKOUT_TRANSITIONS.blocked).toEqual([]);
    expect(canMove(CHECKOUT_TRANSITIONS, "review", "processing")).toBe(false);
  });
});
