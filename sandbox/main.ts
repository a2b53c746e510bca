// `npm run sandbox`: the PSP sandbox on its own (SANDBOX_PORT, default 12111), with the app's webhook route
// as the Stripe webhook target and the same keys and secrets the app uses (server/env.js).
import { env } from "../server/env.js";
import { sandboxOptionsFromEnv } from "./env-options";
import { startSandbox } from "./index";

const sandbox = await startSandbox(sandboxOptionsFromEnv(env.APP_URL));
console.log(`[sandbox] PSP sandbox on ${sandbox.url} (Stripe API /v1, Daraja /oauth + /mpesa, card field /elements/card, stripe.js /v3)`);
const shutdown = () => void sandbox.stop().then(() => process.exit(0));
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);
