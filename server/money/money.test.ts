import { describe, it, expect } from "vitest";
import fc from "fast-check";
import {
  CURRENCY_CODES,
  MAX_AMOUNT,
  MIN_AMOUNT,
  MoneyError,
  addMoney,
  allocateMoney,
  compareMoney,
  currencyExponent,
  formatMoney,
  formatMoneyDisplay,
  isCurrencyCode,
  isNegative,
  isZero,
  money,
  negateMoney,
  parseMoney,
  subtractMoney,
  sumMoney,
  zAmountString,
  zCurrencyCode,
  zMoney,
  type MoneyErrorCode,
} from "./index";

/** Run `fn`, assert it throws a MoneyError with `code`, and return it for message checks. */
function moneyError(fn: () => unknown, code: MoneyErrorCode): MoneyError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(MoneyError);
    expect((error as MoneyError).code).toBe(code);
    return error as MoneyError;
  }
  throw new Error(`expected a MoneyError with code ${code}, but nothing was thrown`);
}

describe("currencies", () => {
  it("knows the exponents we rely on", () => {
    expect(currencyExponent("USD")).toBe(2);
    expect(currencyExponent("JPY")).toBe(0);
    expect(currencyExponent("UGX")).toBe(0);
    expect(currencyExponent("RWF")).toBe(0);
    expect(currencyExponent("TZS")).toBe(2);
    expect(currencyExponent("KWD")).toBe(3);
    expect(currencyExponent("BHD")).toBe(3);
    expect(CURRENCY_CODES).toContain("KES");
  });

  it("accepts only exact upper-case codes of our own", () => {
    expect(isCurrencyCode("USD")).toBe(true);
    expect(isCurrencyCode("usd")).toBe(false);
    expect(isCurrencyCode("XXX")).toBe(false);
    expect(isCurrencyCode("toString")).toBe(false);
    expect(isCurrencyCode(840)).toBe(false);
  });
});

describe("parseMoney / formatMoney round trip", () => {
  const twoDecimals = [
    ["0.01", 1n],
    ["12.50", 1250n],
    ["1000000.00", 100000000n],
    ["-0.05", -5n],
  ] as const;

  for (const currency of ["KES", "USD", "EUR"] as const) {
    for (const [text, minor] of twoDecimals) {
      it(`${text} ${currency} is exactly ${minor} minor units`, () => {
        const m = parseMoney(text, currency);
        expect(m).toEqual({ amount: minor, currency });
        expect(formatMoney(m)).toBe(text);
      });
    }
  }

  for (const [text, minor] of [["0", 0n], ["1250", 1250n], ["1000000", 1000000n]] as const) {
    it(`${text} JPY is exactly ${minor} yen`, () => {
      const m = parseMoney(text, "JPY");
      expect(m.amount).toBe(minor);
      expect(formatMoney(m)).toBe(text);
    });
  }

  it("handles KWD's 3 decimals", () => {
    expect(parseMoney("1.005", "KWD").amount).toBe(1005n);
    expect(formatMoney(parseMoney("0.001", "KWD"))).toBe("0.001");
    expect(formatMoney(money(-12345n, "KWD"))).toBe("-12.345");
  });

  it("pads fewer decimals than the exponent", () => {
    expect(parseMoney("12.5", "USD").amount).toBe(1250n);
    expect(parseMoney("7", "USD").amount).toBe(700n);
    expect(parseMoney("0.1", "KWD").amount).toBe(100n);
    expect(formatMoney(parseMoney("12.5", "USD"))).toBe("12.50");
  });

  it("reaches exactly the Postgres bigint bounds", () => {
    expect(parseMoney("92233720368547758.07", "USD").amount).toBe(MAX_AMOUNT);
    expect(parseMoney("-92233720368547758.08", "USD").amount).toBe(MIN_AMOUNT);
    expect(parseMoney("9223372036854775807", "JPY").amount).toBe(MAX_AMOUNT);
  });

  it("property: parseMoney(formatMoney(m)) === m for any in-range amount and currency", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: MIN_AMOUNT, max: MAX_AMOUNT }),
        fc.constantFrom(...CURRENCY_CODES),
        (amount, currency) => {
          const m = money(amount, currency);
          expect(parseMoney(formatMoney(m), currency)).toEqual(m);
        },
      ),
    );
  });
});

describe("parseMoney refusals", () => {
  const invalid: ReadonlyArray<readonly [unknown, string]> = [
    ["abc", "not a valid decimal string"],
    ["", "empty"],
    [" 12.50", "whitespace"],
    ["12.50\n", "whitespace"],
    ["+1", `must not start with "+"`],
    ["1e3", "scientific notation"],
    ["01", "leading zeros"],
    ["01.00", "leading zeros"],
    [".5", "digit before the decimal point"],
    ["5.", "digit after the decimal point"],
    ["1,000.00", "thousands separators"],
    ["--1", "not a valid decimal string"],
    ["١٢", "not a valid decimal string"], // non-ASCII digits
  ];

  for (const [input, hint] of invalid) {
    it(`rejects ${JSON.stringify(input)} as invalid_amount`, () => {
      const error = moneyError(() => parseMoney(input, "USD"), "invalid_amount");
      expect(error.message).toContain(hint);
      expect(error.field).toBe("amount");
    });
  }

  it("rejects JS numbers, saying amounts must be decimal strings", () => {
    const error = moneyError(() => parseMoney(1.5, "USD"), "invalid_amount");
    expect(error.message).toContain(`decimal strings such as "12.50"`);
    expect(error.message).toContain("never numbers");
    expect(error.message).toContain("1.5");
  });

  it("rejects other non-strings", () => {
    for (const input of [null, undefined, 1250n, {}, ["1"]]) {
      const error = moneyError(() => parseMoney(input, "USD"), "invalid_amount");
      expect(error.message).toContain("decimal string");
    }
  });

  for (const input of ["-0", "-0.00", "-0.0", "-0.000"]) {
    it(`rejects negative zero ${input}`, () => {
      const error = moneyError(() => parseMoney(input, "KWD"), "negative_zero");
      expect(error.message).toContain("negative zero");
    });
  }

  it("rejects too many decimals for the currency", () => {
    expect(moneyError(() => parseMoney("1.005", "USD"), "too_many_decimals").message).toBe(
      "USD allows at most 2 decimal places",
    );
    for (const input of ["0.01", "12.50", "1.0"]) {
      expect(moneyError(() => parseMoney(input, "JPY"), "too_many_decimals").message).toBe(
        "JPY allows no decimal places",
      );
    }
    expect(moneyError(() => parseMoney("1.0001", "KWD"), "too_many_decimals").message).toContain(
      "at most 3",
    );
  });

  it("rejects unknown, lower-case and non-string currencies", () => {
    const unknown = moneyError(() => parseMoney("1.00", "XXX"), "invalid_currency");
    expect(unknown.message).toContain(`unsupported currency "XXX"`);
    expect(unknown.field).toBe("currency");
    const lower = moneyError(() => parseMoney("1.00", "usd"), "invalid_currency");
    expect(lower.message).toContain(`upper case: use "USD"`);
    expect(moneyError(() => parseMoney("1.00", 840), "invalid_currency").message).toContain(
      "ISO 4217",
    );
  });

  it("rejects amounts outside the Postgres bigint range", () => {
    const error = moneyError(() => parseMoney("92233720368547758.08", "USD"), "out_of_range");
    expect(error.message).toContain("between -92233720368547758.08 and 92233720368547758.07");
    moneyError(() => parseMoney("-92233720368547758.09", "USD"), "out_of_range");
    moneyError(() => parseMoney("9".repeat(100_000), "JPY"), "out_of_range");
  });

  it("keeps messages short for huge inputs", () => {
    const error = moneyError(() => parseMoney("x".repeat(100_000), "USD"), "invalid_amount");
    expect(error.message.length).toBeLessThan(200);
  });
});

describe("money()", () => {
  it("builds frozen values", () => {
    const m = money(1250n, "USD");
    expect(m).toEqual({ amount: 1250n, currency: "USD" });
    expect(Object.isFrozen(m)).toBe(true);
  });

  it("refuses JS numbers with a clear error", () => {
    const error = moneyError(() => money(12.5 as unknown as bigint, "USD"), "invalid_amount");
    expect(error.message).toContain("bigint");
    expect(error.message).toContain("never a number");
  });

  it("validates currency and range", () => {
    moneyError(() => money(1n, "usd"), "invalid_currency");
    moneyError(() => money(MAX_AMOUNT + 1n, "USD"), "out_of_range");
    moneyError(() => money(MIN_AMOUNT - 1n, "USD"), "out_of_range");
    expect(money(MIN_AMOUNT, "USD").amount).toBe(MIN_AMOUNT);
  });
});

describe("formatMoneyDisplay", () => {
  it("formats exactly with Intl", () => {
    expect(formatMoneyDisplay(money(1250n, "USD"))).toBe("$12.50");
    expect(formatMoneyDisplay(money(-5n, "USD"))).toBe("-$0.05");
    expect(formatMoneyDisplay(money(125000n, "JPY"))).toBe("¥125,000");
    // Would round to 92,233,720,368,547,760.00 if it went through a double.
    expect(formatMoneyDisplay(money(MAX_AMOUNT, "USD"))).toBe("$92,233,720,368,547,758.07");
    expect(formatMoneyDisplay(money(1005n, "KWD"))).toContain("1.005");
  });
});

describe("arithmetic", () => {
  const usd = (n: bigint) => money(n, "USD");

  it("adds, subtracts, negates", () => {
    expect(addMoney(usd(1250n), usd(5n))).toEqual(usd(1255n));
    expect(subtractMoney(usd(5n), usd(1250n))).toEqual(usd(-1245n));
    expect(negateMoney(usd(5n))).toEqual(usd(-5n));
    expect(negateMoney(usd(0n))).toEqual(usd(0n));
  });

  it("answers predicates and comparisons", () => {
    expect(isZero(usd(0n))).toBe(true);
    expect(isZero(usd(1n))).toBe(false);
    expect(isNegative(usd(-1n))).toBe(true);
    expect(isNegative(usd(0n))).toBe(false);
    expect(compareMoney(usd(1n), usd(2n))).toBe(-1);
    expect(compareMoney(usd(2n), usd(2n))).toBe(0);
    expect(compareMoney(usd(3n), usd(2n))).toBe(1);
  });

  it("sums a list, with an explicit currency for the empty list", () => {
    expect(sumMoney([usd(1n), usd(2n), usd(-4n)], "USD")).toEqual(usd(-1n));
    expect(sumMoney([], "KES")).toEqual(money(0n, "KES"));
    // Intermediate overflow is fine as long as the total fits.
    expect(sumMoney([usd(MAX_AMOUNT), usd(1n), usd(-1n)], "USD")).toEqual(usd(MAX_AMOUNT));
  });

  it("throws currency_mismatch when mixing currencies", () => {
    const kes = money(100n, "KES");
    const error = moneyError(() => addMoney(usd(1n), kes), "currency_mismatch");
    expect(error.message).toContain("USD and KES");
    moneyError(() => subtractMoney(usd(1n), kes), "currency_mismatch");
    moneyError(() => compareMoney(usd(1n), kes), "currency_mismatch");
    moneyError(() => sumMoney([usd(1n), kes], "USD"), "currency_mismatch");
    moneyError(() => sumMoney([usd(1n)], "KES"), "currency_mismatch");
  });

  it("reports overflow as out_of_range", () => {
    moneyError(() => addMoney(usd(MAX_AMOUNT), usd(1n)), "out_of_range");
    moneyError(() => subtractMoney(usd(MIN_AMOUNT), usd(1n)), "out_of_range");
    moneyError(() => negateMoney(usd(MIN_AMOUNT)), "out_of_range");
  });
});

describe("allocateMoney", () => {
  const amounts = (list: readonly { amount: bigint }[]) => list.map((m) => m.amount);

  it("splits by largest remainder, ties to the earlier part", () => {
    expect(amounts(allocateMoney(money(100n, "USD"), [1n, 1n, 1n]))).toEqual([34n, 33n, 33n]);
    expect(amounts(allocateMoney(money(5n, "USD"), [3n, 7n]))).toEqual([2n, 3n]);
    expect(amounts(allocateMoney(money(-100n, "USD"), [1n, 1n, 1n]))).toEqual([-34n, -33n, -33n]);
    expect(amounts(allocateMoney(money(10n, "JPY"), [0n, 1n, 0n]))).toEqual([0n, 10n, 0n]);
  });

  it("rejects unusable weights", () => {
    for (const weights of [[], [0n, 0n], [1n, -1n], [1 as unknown as bigint]]) {
      moneyError(() => allocateMoney(money(1n, "USD"), weights), "invalid_amount");
    }
  });

  it("property: parts sum to the total and each is within 1 unit of its share", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: MIN_AMOUNT, max: MAX_AMOUNT }),
        fc
          .array(fc.bigInt({ min: 0n, max: 10n ** 12n }), { minLength: 1, maxLength: 20 })
          .filter((ws) => ws.some((w) => w > 0n)),
        fc.constantFrom(...CURRENCY_CODES),
        (amount, weights, currency) => {
          const total = money(amount, currency);
          const parts = allocateMoney(total, weights);
          const weightSum = weights.reduce((s, w) => s + w, 0n);
          expect(parts).toHaveLength(weights.length);
          expect(sumMoney(parts, currency)).toEqual(total);
          parts.forEach((part, i) => {
            // |part - amount * w / W| < 1, scaled by W to stay in integers.
            const diff = part.amount * weightSum - amount * weights[i]!;
            expect(diff < 0n ? -diff : diff).toBeLessThan(weightSum);
          });
        },
      ),
    );
  });
});

describe("zod schemas", () => {
  it("zAmountString enforces the grammar with money messages", () => {
    expect(zAmountString.parse("12.50")).toBe("12.50");
    const number = zAmountString.safeParse(1.5);
    expect(number.error?.issues[0]?.message).toContain("never numbers");
    const negZero = zAmountString.safeParse("-0.00");
    expect(negZero.error?.issues[0]?.message).toContain("negative zero");
    expect(zAmountString.safeParse("1e3").success).toBe(false);
  });

  it("zCurrencyCode accepts supported upper-case codes only", () => {
    expect(zCurrencyCode.parse("KES")).toBe("KES");
    expect(zCurrencyCode.safeParse("kes").error?.issues[0]?.message).toContain(`use "KES"`);
    expect(zCurrencyCode.safeParse("XXX").success).toBe(false);
  });

  it("zMoney produces Money and blames the right field", () => {
    expect(zMoney.parse({ amount: "12.5", currency: "USD" })).toEqual(money(1250n, "USD"));
    const tooPrecise = zMoney.safeParse({ amount: "0.01", currency: "JPY" });
    expect(tooPrecise.error?.issues).toMatchObject([
      {
        path: ["amount"],
        message: "JPY allows no decimal places",
        params: { moneyCode: "too_many_decimals" },
      },
    ]);
    const bad = zMoney.safeParse({ amount: 12.5, currency: "usd" });
    expect(bad.error?.issues.map((i) => i.path)).toEqual([["amount"], ["currency"]]);
  });
});
