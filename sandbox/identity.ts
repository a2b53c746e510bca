// How a starter (`npm run dev`) recognises a PSP sandbox that is already running on its port: GET
// /_sandbox/identity answers what it is and a fingerprint of its keys (never the keys). Same fingerprint: the
// same keys and secrets as the app's, so the app can use it as if it had started it.
import { createHash } from "node:crypto";

/** The keys and secrets the sandbox checks (SANDBOX_DEFAULTS merged with the options). */
export interface SandboxKeys {
  stripeSecretKey: string;
  stripePublishableKey: string;
  stripeWebhookSecret: string;
  darajaConsumerKey: string;
  darajaConsumerSecret: string;
  darajaShortcode: string;
  darajaPasskey: string;
}

export const SANDBOX_IDENTITY = "paybridge_psp_sandbox";
export const IDENTITY_PATH = "/_sandbox/identity";

export interface SandboxIdentity {
  object: typeof SANDBOX_IDENTITY;
  keys: string;
  pid: number;
  persistence: string;
  webhookTargets: { stripe: string[] };
}

/** SHA-256 over the keys and secrets the sandbox checks. */
export function sandboxKeysFingerprint(o: SandboxKeys): string {
  const parts = [o.stripeSecretKey, o.stripePublishableKey, o.stripeWebhookSecret, o.darajaConsumerKey, o.darajaConsumerSecret, o.darajaShortcode, o.darajaPasskey];
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex");
}

/** What answers on `url`: our sandbox with the same keys, a sandbox with other keys, something else, or nothing. */
export async function probeSandbox(url: string, keys: SandboxKeys, timeoutMs = 3_000): Promise<{ kind: "same" | "other_keys" | "not_sandbox" | "none"; identity?: SandboxIdentity }> {
  let res: Response;
  try {
    res = await fetch(`${url}${IDENTITY_PATH}`, { signal: AbortSignal.timeout(timeoutMs) });
  } catch {
    return { kind: "none" };
  }
  const body = (await res.json().catch(() => undefined)) as Partial<SandboxIdentity> | undefined;
  if (!res.ok || body?.object !== SANDBOX_IDENTITY) return { kind: "not_sandbox" };
  return { kind: body.keys === sandboxKeysFingerprint(keys) ? "same" : "other_keys", identity: body as SandboxIdentity };
}
