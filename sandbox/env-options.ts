// The sandbox's options from the app's configuration (server/env.js): the same keys and secrets the app's
// connectors use, and the app's Stripe webhook route as the webhook target. Used by `npm run sandbox` and
// by the dev orchestrator (scripts/services.ts), which persists into its own database instead.
import { env } from "../server/env.js";
import type { SandboxOptions } from "./index";

export function sandboxOptionsFromEnv(appUrl: string): SandboxOptions {
  return {
    port: env.SANDBOX_PORT,
    publicUrl: env.SANDBOX_URL,
    webhookTargets: { stripe: [`${appUrl}/api/webhooks/stripe`] },
    stripeSecretKey: env.STRIPE_SECRET_KEY,
    stripePublishableKey: env.STRIPE_PUBLISHABLE_KEY,
    stripeWebhookSecret: env.STRIPE_WEBHOOK_SECRET,
    darajaConsumerKey: env.DARAJA_CONSUMER_KEY,
    darajaConsumerSecret: env.DARAJA_CONSUMER_SECRET,
    darajaShortcode: env.DARAJA_SHORTCODE,
    darajaPasskey: env.DARAJA_PASSKEY,
    // Persistence: a database if there is one, else the state file (docs/sandbox.md "State").
    databaseUrl: env.SANDBOX_DATABASE_URL ?? env.DATABASE_URL,
    stateFile: env.SANDBOX_STATE_FILE,
  };
}
