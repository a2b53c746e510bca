import { Inngest } from "inngest";
import { env } from "@/server/env.js";

// The app's one Inngest client. With INNGEST_BASE_URL (+ keys) it talks to Inngest Cloud or a
// self-hosted `inngest start`; otherwise to the local engine (inngest/engine) in dev mode, where the SDK
// skips request signatures. The SDK reads no config of its own from process.env: it is all passed here.

export const INNGEST_APP_ID = "paybridge";

export interface InngestClientConfig {
  baseUrl?: string;
  eventKey?: string;
  signingKey?: string;
  /** Local engine URL, used when baseUrl is unset. */
  devUrl: string;
  fetch?: typeof fetch;
}

export function inngestConfigFromEnv(): InngestClientConfig {
  return {
    baseUrl: env.INNGEST_BASE_URL,
    eventKey: env.INNGEST_EVENT_KEY,
    signingKey: env.INNGEST_SIGNING_KEY,
    devUrl: env.INNGEST_DEV && /^https?:\/\//.test(env.INNGEST_DEV) ? env.INNGEST_DEV : `http://127.0.0.1:${env.INNGEST_ENGINE_PORT}`,
  };
}

/** Cloud mode (signatures on) exactly when a signing key is configured. */
export function createInngestClient(config: InngestClientConfig): Inngest {
  const cloud = Boolean(config.signingKey);
  return new Inngest({
    id: INNGEST_APP_ID,
    isDev: !cloud,
    // Cloud without INNGEST_BASE_URL: the SDK's own defaults (api.inngest.com / inn.gs).
    baseUrl: config.baseUrl ?? (cloud ? undefined : config.devUrl),
    eventKey: config.eventKey ?? (cloud ? undefined : "local"),
    signingKey: config.signingKey,
    fetch: config.fetch,
  });
}

export const inngest = createInngestClient(inngestConfigFromEnv());
