// One file per domain; this index is what drizzle-kit and the client see.
export * from "./auth";
export * from "./merchants";
export * from "./psp";
export * from "./ledger";
export * from "./engine";
export * from "./outbox";
export * from "./api";
export * from "./payments";
export * from "./risk";
export * from "./webhooks";
export * from "./heartbeats";
export * from "./exceptions";
export * from "./refunds";
export * from "./payouts";
export * from "./reconciliation";
