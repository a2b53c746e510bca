/**
 * `npm run start:sandbox` — the PSP sandbox (sandbox/: Stripe- and Daraja-compatible) as its own process, for a
 * staging or demo deployment that runs with PSP_MODE=sandbox (production with PSP_MODE=live does not run it).
 * Env (server/env.js, through sandbox/env-options.ts): SANDBOX_PORT (where it listens; the app reaches it as
 * SANDBOX_URL), APP_URL (Stripe webhooks go to ${APP_URL}/api/webhooks/stripe), SANDBOX_DATABASE_URL or
 * DATABASE_URL (its state persists there, schema `sandbox`, so a restart remembers every PaymentIntent; with
 * neither, in SANDBOX_STATE_FILE), and the same STRIPE_* / DARAJA_* keys and secrets the app uses.
 * Signals and exit codes: scripts/start/part.ts.
 */
import { startSandbox } from "../../sandbox";
import { sandboxOptionsFromEnv } from "../../sandbox/env-options";
import { env } from "../../server/env.js";
import { runPart } from "./part";

runPart("sandbox", async () => {
  const options = sandboxOptionsFromEnv(env.APP_URL);
  const sandbox = await startSandbox(options);
  const state = options.databaseUrl ? "state in the database" : `state in ${options.stateFile}`;
  return { ready: `${sandbox.url} (webhooks to ${env.APP_URL}/api/webhooks/stripe, ${state})`, stop: () => sandbox.stop() };
});
