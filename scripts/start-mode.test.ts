import { describe, expect, it } from "vitest";
import { isProductionStart, shouldSeedDemo, type StartModeInput } from "./start-mode";

const DB = "postgres://u:p@db:5432/paybridge";
const base: StartModeInput = { nodeEnv: "development", prod: false, databaseUrl: undefined, seedDemo: undefined };

describe("isProductionStart", () => {
  it("npm start against a real database is production even with NODE_ENV unset", () => {
    expect(isProductionStart({ ...base, prod: true, databaseUrl: DB })).toBe(true);
  });
  it("NODE_ENV=production against a real database is production", () => {
    expect(isProductionStart({ ...base, nodeEnv: "production", databaseUrl: DB })).toBe(true);
  });
  it("the embedded Postgres is never production (npm run dev, the e2e server --prod --ephemeral)", () => {
    expect(isProductionStart(base)).toBe(false);
    expect(isProductionStart({ ...base, nodeEnv: "production", prod: true })).toBe(false);
  });
  it("npm run dev against a real database is not production", () => {
    expect(isProductionStart({ ...base, databaseUrl: DB })).toBe(false);
  });
});

describe("shouldSeedDemo", () => {
  it("seeds the embedded Postgres by default, also under --prod (the e2e server)", () => {
    expect(shouldSeedDemo(base)).toBe(true);
    expect(shouldSeedDemo({ ...base, nodeEnv: "production", prod: true })).toBe(true);
  });
  it("never seeds a DATABASE_URL by default, whatever NODE_ENV", () => {
    expect(shouldSeedDemo({ ...base, databaseUrl: DB })).toBe(false);
    expect(shouldSeedDemo({ ...base, prod: true, databaseUrl: DB })).toBe(false);
  });
  it("SEED_DEMO decides when set", () => {
    expect(shouldSeedDemo({ ...base, databaseUrl: DB, seedDemo: true })).toBe(true);
    expect(shouldSeedDemo({ ...base, seedDemo: false })).toBe(false);
  });
});
