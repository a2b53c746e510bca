// Daraja callbacks are unsigned, so each callback URL carries its own secret path token:
// /api/webhooks/mpesa/<token>. Tokens are HMAC(MPESA_CALLBACK_SECRET, kind): one secret, a distinct
// unguessable URL per callback kind, and the token itself tells the route which kind arrived.
import { createHmac, timingSafeEqual } from "node:crypto";
import { MPESA_CALLBACK_KINDS, type MpesaCallbackKind } from "./transform";

const TOKEN_LENGTH = 32;

export function mpesaCallbackToken(secret: string, kind: MpesaCallbackKind): string {
  return createHmac("sha256", secret).update(`mpesa-callback:${kind}`).digest("base64url").slice(0, TOKEN_LENGTH);
}

export function mpesaCallbackKind(secret: string, token: string): MpesaCallbackKind | undefined {
  const given = Buffer.from(token);
  for (const kind of MPESA_CALLBACK_KINDS) {
    const expected = Buffer.from(mpesaCallbackToken(secret, kind));
    if (given.length === expected.length && timingSafeEqual(given, expected)) return kind;
  }
  return undefined;
}

export function mpesaCallbackUrl(appUrl: string, secret: string, kind: MpesaCallbackKind): string {
  return new URL(`/api/webhooks/mpesa/${mpesaCallbackToken(secret, kind)}`, appUrl).toString();
}
