// A small typed Daraja client on fetch: injectable base URL, OAuth client-credentials token cached until
// shortly before expiry (expires_in is a string), an explicit timeout, and a psp_attempts row per call.
import { type AttemptRecorder, type CallFacts, recordedCall } from "../attempts";
import { PspError } from "../errors";
import { eatTimestamp, stkPassword, STK_PENDING_ERROR } from "./transform";

/** Refresh this long before Daraja says the token expires, so no call races the expiry. */
export const TOKEN_REFRESH_MARGIN_MS = 60_000;

export interface DarajaConfig {
  baseUrl: string;
  consumerKey: string;
  consumerSecret: string;
  shortcode: string;
  passkey: string;
  b2cShortcode: string;
  initiatorName: string;
  securityCredential: string;
  timeoutMs: number;
  /** Only in sandbox mode: per-request faults for tests. */
  allowSandboxFaults: boolean;
}

export class DarajaHttpError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
    readonly requestId?: string,
  ) {
    super(message);
    this.name = "DarajaHttpError";
  }
}

type Json = Record<string, unknown>;
interface CallOpts {
  operation: string;
  idempotencyKey?: string;
  summary: Json;
  objectId?: (r: Json) => string | undefined;
  sandboxFault?: string;
}

export class DarajaClient {
  private token?: { value: string; expiresAtMs: number };

  constructor(
    readonly config: DarajaConfig,
    private readonly record: AttemptRecorder,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private async fetchJson(method: "GET" | "POST", path: string, headers: Record<string, string>, body: Json | undefined, o: CallOpts): Promise<Json> {
    const call = async () => {
      let res: Response;
      try {
        const h = { ...headers, ...(body ? { "content-type": "application/json" } : {}), ...(this.config.allowSandboxFaults && o.sandboxFault ? { "sandbox-fault": o.sandboxFault } : {}) };
        res = await fetch(new URL(path, this.config.baseUrl), { method, headers: h, body: body ? JSON.stringify(body) : undefined, signal: AbortSignal.timeout(this.config.timeoutMs) });
      } catch (err) {
        const timeout = (err as Error).name === "TimeoutError" || (err as Error).name === "AbortError";
        throw new PspError("mpesa", timeout ? "timeout" : "network", `${o.operation}: ${timeout ? "timed out" : "network error"}`, { cause: err });
      }
      const text = await res.text();
      let json: Json = {};
      try {
        json = text ? (JSON.parse(text) as Json) : {};
      } catch {
        throw new DarajaHttpError(res.status, "invalid_json", `${o.operation}: non-JSON answer (HTTP ${res.status})`);
      }
      if (!res.ok) throw new DarajaHttpError(res.status, String(json.errorCode ?? res.status), String(json.errorMessage ?? "Daraja error"), json.requestId as string | undefined);
      return json;
    };
    const onOk = (r: Json): CallFacts => ({ outcome: "ok", responseStatus: 200, pspObjectId: o.objectId?.(r) });
    return recordedCall(this.record, { psp: "mpesa", operation: o.operation, idempotencyKey: o.idempotencyKey, request: o.summary }, call, onOk, errorFacts);
  }

  async accessToken(): Promise<string> {
    if (this.token && this.token.expiresAtMs - TOKEN_REFRESH_MARGIN_MS > this.now().getTime()) return this.token.value;
    const basic = Buffer.from(`${this.config.consumerKey}:${this.config.consumerSecret}`).toString("base64");
    const json = await this.fetchJson("GET", "/oauth/v1/generate?grant_type=client_credentials", { authorization: `Basic ${basic}` }, undefined, { operation: "oauth.token", summary: {} }).catch((err) => {
      throw toPspError(err);
    });
    const ttlS = Number(json.expires_in);
    if (typeof json.access_token !== "string" || !Number.isFinite(ttlS)) throw new PspError("mpesa", "unavailable", "oauth: malformed token answer");
    this.token = { value: json.access_token, expiresAtMs: this.now().getTime() + ttlS * 1000 };
    return this.token.value;
  }

  /** POST with the bearer token; a 401 (token revoked or expired early) refreshes it once. */
  async post(path: string, body: Json, o: CallOpts): Promise<Json> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.accessToken();
      try {
        return await this.fetchJson("POST", path, { authorization: `Bearer ${token}` }, body, o);
      } catch (err) {
        if (err instanceof DarajaHttpError && err.status === 401 && attempt === 0) {
          this.token = undefined;
          continue;
        }
        throw err;
      }
    }
  }

  stkCredentials(): { BusinessShortCode: string; Password: string; Timestamp: string } {
    const Timestamp = eatTimestamp(this.now());
    return { BusinessShortCode: this.config.shortcode, Password: stkPassword(this.config.shortcode, this.config.passkey, Timestamp), Timestamp };
  }

  initiator(): { InitiatorName: string; SecurityCredential: string } {
    return { InitiatorName: this.config.initiatorName, SecurityCredential: this.config.securityCredential };
  }
}

function errorFacts(err: unknown): CallFacts {
  if (err instanceof DarajaHttpError) return { outcome: "psp_error", responseStatus: err.status, errorCode: err.errorCode, pspRequestId: err.requestId };
  if (err instanceof PspError) return { outcome: err.kind === "timeout" ? "timeout" : "network_error", errorCode: err.kind };
  return { outcome: "network_error", errorCode: "unknown" };
}

/** HTTP-level Daraja failures -> retry decisions. STK "still processing" is not an error for callers (see connector). */
export function toPspError(err: unknown): PspError {
  if (err instanceof PspError) return err;
  if (err instanceof DarajaHttpError) {
    if (err.status === 429) return new PspError("mpesa", "rate_limited", err.message, { pspCode: err.errorCode, status: err.status, cause: err });
    if (err.status >= 500 && err.errorCode !== STK_PENDING_ERROR) return new PspError("mpesa", "unavailable", err.message, { pspCode: err.errorCode, status: err.status, cause: err });
    if (err.errorCode === STK_PENDING_ERROR) return new PspError("mpesa", "unavailable", "STK payment still processing", { pspCode: err.errorCode, status: err.status, cause: err });
    return new PspError("mpesa", "invalid_request", err.message, { pspCode: err.errorCode, status: err.status, cause: err });
  }
  return new PspError("mpesa", "network", "unexpected failure", { cause: err });
}
