// `npm run sandbox`: the PSP sandbox on its own (SANDBOX_PORT, default 12111), with the app's webhook route
// as the Stripe webhook target and the same keys and secrets the app uses (server/env.js).
import { env } from "../server/env.js";
import { startSandbox } from "./index";

const sandbox = await startSandbox({
  port: env.SANDBOX_PORT,
  publicUrl: env.SANDBOX_URL,
  webhookTargets: { stripe: [`${env.APP_URL}/api/webhooks/stripe`] },
  stripeSecretKey: env.STRIPE_SECRET_KEY,
  stripePublishableKey: env.STRIPE_PUBLISHABLE_KEY,
  stripeWebhookSecret: env.STRIPE_WEBHOOK_SECRET,
  darajaConsumerKey: env.DARAJA_CONSUMER_KEY,
  darajaConsumerSecret: env.DARAJA_CONSUMER_SECRET,
  darajaShortcode: env.DARAJA_SHORTCODE,
  darajaPasskey: env.DARAJA_PASSKEY,
});
console.log(`[sandbox] PSP sandbox on ${sandbox.url} (Stripe API /v1, Daraja /oauth + /mpesa, card field /elements/card, stripe.js /v3)`);
const shutdown = () => void sandbox.stop().then(() => process.exit(0));
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);
