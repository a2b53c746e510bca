// PSP settlement data in (docs/reconciliation.md): the import record, the row insert paths, and one importer per source.
export { beginImport, failImport, fileImportKey, finishImport, type BegunImport } from "./record";
export { insertSettlementRows, parseMinor, readCurrency, STRIPE_CATEGORIES } from "./rows";
export { balanceTransactionToSettlementRow, importStripeBalanceTransactions, importStripePage, importStripeSource, stripeWindow, type StripeImportDeps, type StripeWindowInput } from "./stripe-api";
export { importStripeReportCsv, type StripeReportInput } from "./stripe-report";
export { importMpesaStatementCsv, parseMpesaStatementRows } from "./mpesa-statement";
