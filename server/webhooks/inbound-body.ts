// What an inbound PSP body must be before anything of it is stored, and the one error shape both webhook
// routes answer with (docs/psp.md, "Inbound webhooks"). A refusal is a 4xx and stores nothing: a PSP retries a
// 5xx, so a body we can never store must never look like our outage.
//
//   { "received": false, "error": { "code": "<WebhookErrorCode>", "message": "<what is wrong>", "path"?: "<where>" } }
import { fieldPath } from "@/server/http/errors";
import { z } from "zod";
import { isStorableText } from "@/server/http/storable-text";

export type WebhookErrorCode = "invalid_signature" | "malformed_json" | "invalid_payload" | "payload_too_large" | "not_found" | "internal";

export const WEBHOOK_ERROR_STATUS = {
  invalid_signature: 400,
  malformed_json: 400,
  invalid_payload: 400,
  payload_too_large: 413,
  not_found: 404,
  internal: 500,
} as const satisfies Record<WebhookErrorCode, number>;

export interface WebhookErrorBody {
  received: false;
  error: { code: WebhookErrorCode; message: string; path?: string };
}

export interface WebhookErrorReply {
  status: (typeof WEBHOOK_ERROR_STATUS)[WebhookErrorCode];
  body: WebhookErrorBody;
}

export function webhookError(code: WebhookErrorCode, message: string, path?: string): WebhookErrorReply {
  return { status: WEBHOOK_ERROR_STATUS[code], body: { received: false, error: { code, message, ...(path ? { path } : {}) } } };
}

/** PSP bodies are small (a Stripe event lists at most 10 items of any list; a Daraja callback is a few hundred bytes). */
export const WEBHOOK_BODY_MAX_BYTES = 1024 * 1024;
/** Far deeper than any Stripe event or Daraja callback; deep enough input would overflow JSON.stringify and Postgres. */
export const WEBHOOK_MAX_DEPTH = 64;

/** A refusal of the body, not of its signature: thrown by readWebhookJson and the shape checks. */
export class WebhookBodyError extends Error {
  constructor(
    readonly code: "malformed_json" | "invalid_payload" | "payload_too_large",
    message: string,
    readonly path?: string,
  ) {
    super(message);
    this.name = "WebhookBodyError";
  }
  reply(): WebhookErrorReply {
    return webhookError(this.code, this.message, this.path);
  }
}

export function checkBodySize(rawBody: string): void {
  if (Buffer.byteLength(rawBody) > WEBHOOK_BODY_MAX_BYTES) throw new WebhookBodyError("payload_too_large", `Webhook bodies are limited to ${WEBHOOK_BODY_MAX_BYTES} bytes`);
}


/**
 * The body as JSON that can be stored exactly as it reads: an object at the top, at most WEBHOOK_MAX_DEPTH
 * deep, no string or key Postgres refuses or would change (NUL, unpaired surrogates), and no number JSON.parse
 * could not carry exactly (1e400 reads as Infinity, 99999999999999999999 as a rounded float). Walked without
 * recursion, so a body nested 100 000 deep is refused, not a stack overflow.
 */
export function readWebhookJson(rawBody: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(rawBody);
  } catch (err) {
    throw new WebhookBodyError("malformed_json", `The body is not valid JSON${err instanceof SyntaxError ? `: ${err.message}` : ""}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new WebhookBodyError("invalid_payload", `The body must be a JSON object, not ${value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`}`);
  }
  const stack: { v: unknown; path: PropertyKey[] }[] = [{ v: value, path: [] }];
  while (stack.length > 0) {
    const { v, path } = stack.pop()!;
    if (typeof v === "string") {
      if (!isStorableText(v)) throw new WebhookBodyError("invalid_payload", "Text must not contain NUL (\\u0000) or unpaired surrogate characters", fieldPath(path));
    } else if (typeof v === "number") {
      if (!Number.isFinite(v) || (Number.isInteger(v) && !Number.isSafeInteger(v))) throw new WebhookBodyError("invalid_payload", "A number is out of the range JSON can carry exactly", fieldPath(path));
    } else if (v !== null && typeof v === "object") {
      if (path.length >= WEBHOOK_MAX_DEPTH) throw new WebhookBodyError("invalid_payload", `The body is nested deeper than ${WEBHOOK_MAX_DEPTH} levels`, fieldPath(path));
      if (Array.isArray(v)) v.forEach((item, i) => stack.push({ v: item, path: [...path, i] }));
      else
        for (const [k, item] of Object.entries(v)) {
          if (!isStorableText(k)) throw new WebhookBodyError("invalid_payload", "Keys must not contain NUL (\\u0000) or unpaired surrogate characters", fieldPath(path));
          stack.push({ v: item, path: [...path, k] });
        }
    }
  }
  return value as Record<string, unknown>;
}

/** Checks a parsed body against the shape its processing reads; the first problem names its field. */
export function checkShape<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw new WebhookBodyError("invalid_payload", `Not ${what}: ${issue.message}`, fieldPath(issue.path) || undefined);
}
