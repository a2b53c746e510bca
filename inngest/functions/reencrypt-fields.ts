import type { Inngest } from "inngest";
import type { Db } from "@/db/client";
import { reencryptPass, rotationStatus } from "@/server/keys";
import { keysReencryptRequested } from "../events";
import { recordFailure } from "./exceptions";

// Key rotation's background job (docs/security.md "Rotating the field-encryption key"): re-encrypts every
// stored envelope not under the active key, a pass of batches per step (server/keys/reencrypt.ts: each batch
// its own transaction and audit row). Runs daily and on an ops request (keys/reencrypt.requested). One run at a
// time (a second request while one runs is skipped); the database is the progress, so a retried or crashed
// run carries on where the last committed batch left it.

export const REENCRYPT_CRON = "TZ=Africa/Nairobi 41 3 * * *";
/** Steps per run; the next run (or request) continues. BATCHES_PER_STEP * MAX_STEPS * batch size rows at most. */
export const REENCRYPT_MAX_STEPS = 400;
export const REENCRYPT_BATCHES_PER_STEP = 10;
/** Rows locked by someone else are skipped: wait for them this many times before leaving them to the next run. */
export const REENCRYPT_LOCKED_RETRIES = 5;

export function createReencryptFields(client: Inngest, deps: { getDb: () => Db; batchSize?: number }) {
  return client.createFunction(
    { id: "reencrypt-fields", retries: 3, singleton: { mode: "skip" }, triggers: [{ cron: REENCRYPT_CRON }, { event: keysReencryptRequested }], onFailure: recordFailure(deps.getDb, "reencrypt-fields") },
    async ({ step }) => {
      let reencrypted = 0;
      let lockedWaits = 0;
      for (let i = 0; i < REENCRYPT_MAX_STEPS; i++) {
        const pass = await step.run(`pass-${i}`, () => reencryptPass(deps.getDb(), { maxBatches: REENCRYPT_BATCHES_PER_STEP, batchSize: deps.batchSize }));
        reencrypted += pass.reencrypted;
        if (!pass.exhausted) continue;
        const remaining = await step.run(`remaining-${i}`, async () => (await rotationStatus(deps.getDb())).remaining);
        if (remaining === 0 || lockedWaits >= REENCRYPT_LOCKED_RETRIES) return { reencrypted, remaining };
        lockedWaits++;
        await step.sleep(`locked-${i}`, "2s");
      }
      return { reencrypted, remaining: null };
    },
  );
}
