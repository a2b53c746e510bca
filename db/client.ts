import { drizzle, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import * as schema from "./schema";

export type Schema = typeof schema;
export type Db = PostgresJsDatabase<Schema>;
/** A Drizzle transaction handle; domain functions accept `Db | Tx` so callers choose the transaction. */
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];
export type DbOrTx = Db | Tx;

export const DB_POOL_MAX = 10;
export const DB_CONNECT_TIMEOUT_S = 10;

export interface DbHandle {
  db: Db;
  /** Closes the pool; call in tests and scripts. */
  close: () => Promise<void>;
}

export function createDb(url: string, options: { max?: number } = {}): DbHandle {
  const client = postgres(url, {
    max: options.max ?? DB_POOL_MAX,
    connect_timeout: DB_CONNECT_TIMEOUT_S,
    onnotice: () => {},
    // bigint columns come back as JS bigint (Money), never as a lossy number or a string.
    types: { bigint: postgres.BigInt },
  });
  const db = drizzle(client, { schema, casing: undefined });
  return { db, close: () => client.end({ timeout: 5 }) };
}
