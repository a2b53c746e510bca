import { createHmac, timingSafeEqual } from "node:crypto";

// The PayBridge-Signature header on merchant webhooks, Stripe's scheme: `t=<unix seconds>,v1=<hex>` where
// v1 = HMAC-SHA256(endpoint secret, `${t}.${raw body}`). The timestamp is signed so a captured request
// cannot be replayed after the tolerance; several v1 entries may appear (secret rotation), any may match.

export const SIGNATURE_HEADER = "PayBridge-Signature";
export const SIGNATURE_TOLERANCE_S = 300;

export function computeSignature(secret: string, timestampS: number, payload: string): string {
  return createHmac("sha256", secret).update(`${timestampS}.${payload}`).digest("hex");
}

export function signatureHeader(secret: string, payload: string, timestampS = Math.floor(Date.now() / 1000)): string {
  return `t=${timestampS},v1=${computeSignature(secret, timestampS, payload)}`;
}

function parseHeader(header: string): { t: number; v1: string[] } | null {
  let t: number | null = null;
  const v1: string[] = [];
  for (const part of header.split(",")) {
    const [k, v] = part.trim().split("=", 2);
    if (k === "t" && v && /^\d+$/.test(v)) t = Number(v);
    if (k === "v1" && v && /^[0-9a-f]{64}$/.test(v)) v1.push(v);
  }
  return t === null || v1.length === 0 ? null : { t, v1 };
}

/** For merchants (and our tests): true only for a well-formed header, a matching HMAC and a fresh timestamp. */
export function verifyMerchantWebhookSignature(payload: string, header: string | null | undefined, secret: string, toleranceS = SIGNATURE_TOLERANCE_S, nowS = Math.floor(Date.now() / 1000)): boolean {
  const parsed = header ? parseHeader(header) : null;
  if (!parsed || Math.abs(nowS - parsed.t) > toleranceS) return false;
  const expected = Buffer.from(computeSignature(secret, parsed.t, payload), "hex");
  return parsed.v1.some((sig) => timingSafeEqual(Buffer.from(sig, "hex"), expected));
}
