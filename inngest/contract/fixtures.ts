import { readFileSync } from "node:fs";
import path from "node:path";

// Loads the contract fixtures (inngest/contract/fixtures/*.json): request and response shapes transcribed from
// inngest/inngest's own source and tests, each case with its provenance (README.md says how to refresh them).

export const INNGEST_COMMIT = "253303cdffec27f6c70e208114305326baaa5dd7";

export interface Provenance {
  repo: string;
  commit: string;
  path: string;
  lines?: string;
  test?: string;
  also?: string;
  note?: string;
}

export interface FixtureCase<R = Record<string, unknown>, E = Record<string, unknown>> {
  name: string;
  provenance: Provenance;
  request?: R;
  response?: R;
  inngestAnswer?: Record<string, unknown>;
  expected?: E;
}

export interface FixtureFile<R = Record<string, unknown>, E = Record<string, unknown>> {
  about: string;
  repo: string;
  commit: string;
  cases: FixtureCase<R, E>[];
}

export function loadFixtures<R = Record<string, unknown>, E = Record<string, unknown>>(name: string): FixtureFile<R, E> {
  const file = path.join(import.meta.dirname, "fixtures", `${name}.json`);
  return JSON.parse(readFileSync(file, "utf8")) as FixtureFile<R, E>;
}

export function fixture<R = Record<string, unknown>, E = Record<string, unknown>>(file: FixtureFile<R, E>, name: string): FixtureCase<R, E> {
  const c = file.cases.find((x) => x.name === name);
  if (!c) throw new Error(`No fixture case "${name}"`);
  return c;
}

/** How Go formats `t` with time.RFC3339 / time.RFC1123 in UTC (what Inngest's tests put in Retry-After). */
export function goTimeFormat(ms: number, format: "RFC3339" | "RFC1123"): string {
  const d = new Date(Math.floor(ms / 1000) * 1000);
  if (format === "RFC3339") return d.toISOString().replace(/\.\d{3}Z$/, "Z");
  // Go: "Mon, 02 Jan 2006 15:04:05 MST"; a UTC time prints its zone as "UTC" (JS toUTCString says "GMT").
  return d.toUTCString().replace(/GMT$/, "UTC");
}
