// `npm run sandbox`: the PSP sandbox on its own (SANDBOX_PORT, default 12111), with the app's webhook route
// as the Stripe webhook target and the same keys and secrets the app uses (server/env.js). Its state persists
// in SANDBOX_DATABASE_URL / DATABASE_URL (schema `sandbox`), else in SANDBOX_STATE_FILE. An unrecoverable error
// (an uncaught exception, an unhandled rejection) is logged and exits 1, so a supervisor restarts it.
import { env } from "../server/env.js";
import { sandboxOptionsFromEnv } from "./env-options";
import { startSandbox } from "./index";

const fatal = (kind: string) => (err: unknown): never => {
  console.error(`[sandbox] ${kind}; exiting 1:`, err);
  process.exit(1);
};
process.on("uncaughtException", fatal("uncaught exception"));
process.on("unhandledRejection", fatal("unhandled rejection"));

const sandbox = await startSandbox(sandboxOptionsFromEnv(env.APP_URL)).catch(fatal("starting failed"));
console.log(`[sandbox] PSP sandbox on ${sandbox.url} (Stripe API /v1, Daraja /oauth + /mpesa, card field /elements/card, stripe.js /v3; state: ${sandbox.persistence})`);
const shutdown = () => void sandbox.stop().then(() => process.exit(0), fatal("stopping failed"));
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);
