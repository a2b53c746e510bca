/** Public API of the money module: import from "@/server/money". */
export {
  CURRENCIES,
  CURRENCY_CODES,
  currencyExponent,
  isCurrencyCode,
  type CurrencyCode,
} from "./currencies";
export { MoneyError, type MoneyErrorCode, type MoneyField } from "./errors";
export {
  MAX_AMOUNT,
  MIN_AMOUNT,
  addMoney,
  allocateMoney,
  compareMoney,
  formatMoney,
  formatMoneyDisplay,
  isNegative,
  isZero,
  money,
  negateMoney,
  parseMoney,
  subtractMoney,
  sumMoney,
  type Money,
} from "./money";
export { zAmountString, zCurrency, zCurrencyCode, zMoney, zMoneyString } from "./schema";
