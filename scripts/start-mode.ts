// What `scripts/dev.ts` treats as production, and when it seeds the demo tenant. Pure, so it is tested.

export interface StartModeInput {
  nodeEnv: string;
  /** `--prod` (`npm start`): next start. */
  prod: boolean;
  databaseUrl: string | undefined;
  seedDemo: boolean | undefined;
}

/**
 * Production, for the secret guards: a real database (DATABASE_URL set) with NODE_ENV=production or `--prod`.
 * The embedded Postgres (DATABASE_URL unset: dev, the e2e server) is never production.
 */
export function isProductionStart(i: StartModeInput): boolean {
  return Boolean(i.databaseUrl) && (i.nodeEnv === "production" || i.prod);
}

/** Seed the demo tenant (a known login and API key) by default only into the embedded Postgres. */
export function shouldSeedDemo(i: StartModeInput): boolean {
  return i.seedDemo ?? !i.databaseUrl;
}
