/**
 * Zod (v4) building blocks for API schemas. They reuse the money module's own
 * checks so API validation and parseMoney can never disagree, and they carry
 * the MoneyError code in `params.moneyCode` for callers that map error codes.
 */
import { z } from "zod";
import { CURRENCY_CODES } from "./currencies";
import { MoneyError } from "./errors";
import { currencyProblem, readAmountString, readMoney } from "./money";

/** Currency-independent amount grammar; decimal places are checked by zMoney. */
export const zAmountString = z
  .string({ error: (issue) => readAmountStringError(issue.input) })
  .superRefine((value, ctx) => {
    const result = readAmountString(value);
    if (result instanceof MoneyError) ctx.addIssue(toIssue(result, value));
  });

export const zCurrencyCode = z.enum(CURRENCY_CODES, {
  error: (issue) =>
    issue.input === undefined ? "currency is required" : currencyProblem(issue.input),
});

/** `{ amount: "12.50", currency: "USD" }` -> Money, with per-field errors. */
export const zMoney = z
  .object({ amount: zAmountString, currency: zCurrencyCode })
  .transform((value, ctx) => {
    const result = readMoney(value.amount, value.currency);
    if (!(result instanceof MoneyError)) return result;
    ctx.addIssue({ ...toIssue(result, value), path: [result.field] });
    return z.NEVER;
  });

/** Aliases for the names used in the original design notes. */
export const zMoneyString = zAmountString;
export const zCurrency = zCurrencyCode;

function readAmountStringError(input: unknown): string {
  if (input === undefined) return "amount is required";
  const result = readAmountString(input);
  return result instanceof MoneyError ? result.message : "amount must be a decimal string";
}

function toIssue(error: MoneyError, input: unknown) {
  return {
    code: "custom" as const,
    message: error.message,
    input,
    params: { moneyCode: error.code },
  };
}
