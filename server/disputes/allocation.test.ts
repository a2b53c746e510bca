import { describe, expect, it } from "vitest";
import { allocatePro, computeAllocation } from "./sync-dispute";
import { reminderKindFor } from "./reminders";

const order = (id: string, amount: bigint, position: number) => ({ id, sellerId: `sel_${id}`, amount, position });

describe("dispute allocation", () => {
  it("splits pro rata with floor, the remainder to the largest order", () => {
    const orders = [order("a", 100001n, 0), order("b", 33333n, 1)];
    expect(allocatePro(1500n, orders)).toEqual([1126n, 374n]);
    expect(allocatePro(133334n, orders)).toEqual([100001n, 33333n]);
    expect(computeAllocation(133334n, 1500n, orders)).toEqual([
      { paymentOrderId: "a", sellerId: "sel_a", amount: "100001", fee: "1126" },
      { paymentOrderId: "b", sellerId: "sel_b", amount: "33333", fee: "374" },
    ]);
  });

  it("ties go to the lowest position; every split sums exactly", () => {
    expect(allocatePro(10n, [order("x", 100n, 1), order("y", 100n, 0), order("z", 100n, 2)])).toEqual([3n, 4n, 3n]);
    for (let total = 0n; total < 200n; total += 7n) {
      const orders = [order("a", 17n, 0), order("b", 5n, 1), order("c", 1n, 2)];
      const parts = allocatePro(total, orders);
      expect(parts.reduce((s, x) => s + x, 0n)).toBe(total);
      expect(parts.every((x) => x >= 0n)).toBe(true);
    }
  });

  it("a partial dispute on one order's checkout is all that order's", () => {
    expect(allocatePro(500n, [order("a", 1000n, 0)])).toEqual([500n]);
  });
});

describe("reminderKindFor", () => {
  const due = new Date("2026-01-10T12:00:00Z");
  const before = (h: number) => new Date(due.getTime() - h * 3_600_000);
  it("is 72h inside 72 h, 24h inside 24 h, nothing before or after", () => {
    expect(reminderKindFor(due, before(73))).toBeNull();
    expect(reminderKindFor(due, before(72))).toBe("72h");
    expect(reminderKindFor(due, before(25))).toBe("72h");
    expect(reminderKindFor(due, before(24))).toBe("24h");
    expect(reminderKindFor(due, before(0.1))).toBe("24h");
    expect(reminderKindFor(due, due)).toBeNull();
  });
});
