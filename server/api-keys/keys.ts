import { randomInt } from "node:crypto";
import { and, desc, eq, isNull, sql } from "drizzle-orm";
import type { Db, DbOrTx } from "@/db/client";
import { apiKeys, rateLimitCounters } from "@/db/schema";
import { recordAudit } from "@/server/audit/record-audit";
import { sha256Hex } from "@/server/crypto/field";
import { env } from "@/server/env.js";
import { rateLimitWindowStart } from "@/server/rate-limit/consume";
import { AppError } from "@/server/errors";

// API keys: secret keys (server-to-server) are shown once and stored only as a sha256 hash; publishable
// keys (browser) are public and stored in full. Revocation is immediate: every request re-reads the row (nothing is
// cached in the app, so a key revoked on one instance is refused by every instance on its next request).

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
export const API_KEY_RANDOM_CHARS = 32; // ~190 bits
export const API_KEY_NAME_MAX = 80;
export type ApiKeyKind = "secret" | "publishable";

function randomBase62(n: number): string {
  let out = "";
  for (let i = 0; i < n; i++) out += BASE62[randomInt(62)]; // randomInt is uniform (no modulo bias)
  return out;
}

function keyModeFor(pspMode: "sandbox" | "live"): "test" | "live" {
  return pspMode === "live" ? "live" : "test";
}

/** The mode of the keys this server issues and accepts (one deployment, one mode: PSP_MODE). */
export function serverKeyMode(): "test" | "live" {
  return keyModeFor(env.PSP_MODE);
}

/** A key's mode from its prefix (sk_test_…, pk_live_…); the stored display hint starts with that prefix. */
export function apiKeyModeOf(keyOrHint: string): "test" | "live" {
  return /^(?:sk|pk)_live_/.test(keyOrHint) ? "live" : "test";
}

function prefixFor(kind: ApiKeyKind): string {
  return `${kind === "secret" ? "sk" : "pk"}_${keyModeFor(env.PSP_MODE)}_`;
}

/** Why a well-formed key of the other mode is refused (test keys on a live server, live keys on a sandbox one); null when it matches. */
export function apiKeyModeMismatch(presented: string, pspMode: "sandbox" | "live"): string | null {
  const keyMode = /^(?:sk|pk)_(test|live)_/.exec(presented)?.[1];
  const serverMode = keyModeFor(pspMode);
  if (!keyMode || keyMode === serverMode) return null;
  return `This is a ${keyMode}-mode key; this server runs in ${serverMode} mode.`;
}

export interface CreatedApiKey {
  id: string;
  kind: ApiKeyKind;
  name: string;
  /** The full key. For secret keys this is the only time it is ever returned. */
  key: string;
  displayHint: string;
}

export async function createApiKey(db: Db, opts: { merchantId: string; kind: ApiKeyKind; name: string; actorUserId?: string }): Promise<CreatedApiKey> {
  const name = opts.name.trim();
  if (!name || name.length > API_KEY_NAME_MAX) throw new AppError("validation_failed", `Key name must be 1–${API_KEY_NAME_MAX} characters`);
  const key = prefixFor(opts.kind) + randomBase62(API_KEY_RANDOM_CHARS);
  const displayHint = `${key.slice(0, 8)}…${key.slice(-4)}`;
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(apiKeys)
      .values({
        merchantId: opts.merchantId,
        kind: opts.kind,
        name,
        publicValue: opts.kind === "publishable" ? key : null,
        keyHash: sha256Hex(key),
        displayHint,
        createdByUserId: opts.actorUserId,
      })
      .returning({ id: apiKeys.id });
    await recordAudit(tx, {
      actor: opts.actorUserId,
      merchantId: opts.merchantId,
      action: "api_key.created",
      target: { type: "api_key", id: row!.id },
      data: { kind: opts.kind, name, displayHint },
    });
    return { id: row!.id, kind: opts.kind, name, key, displayHint };
  });
}

export async function revokeApiKey(db: Db, opts: { merchantId: string; keyId: string; actorUserId?: string }): Promise<void> {
  await db.transaction(async (tx) => {
    const [row] = await tx
      .update(apiKeys)
      .set({ revokedAt: new Date() })
      .where(and(eq(apiKeys.id, opts.keyId), eq(apiKeys.merchantId, opts.merchantId), isNull(apiKeys.revokedAt)))
      .returning({ id: apiKeys.id });
    if (!row) throw new AppError("not_found", "API key not found or already revoked");
    await recordAudit(tx, {
      actor: opts.actorUserId,
      merchantId: opts.merchantId,
      action: "api_key.revoked",
      target: { type: "api_key", id: opts.keyId },
    });
  });
}

/** Every key of the merchant, newest first, each with its mode (the developers page lists test and live apart). */
export async function listApiKeys(db: DbOrTx, merchantId: string) {
  const rows = await db
    .select({
      id: apiKeys.id,
      kind: apiKeys.kind,
      name: apiKeys.name,
      displayHint: apiKeys.displayHint,
      publicValue: apiKeys.publicValue,
      createdAt: apiKeys.createdAt,
      lastUsedAt: apiKeys.lastUsedAt,
      revokedAt: apiKeys.revokedAt,
    })
    .from(apiKeys)
    .where(eq(apiKeys.merchantId, merchantId))
    .orderBy(desc(apiKeys.createdAt));
  return rows.map((r) => ({ ...r, mode: apiKeyModeOf(r.publicValue ?? r.displayHint) }));
}

export interface ApiKeyPrincipal {
  keyId: string;
  merchantId: string;
  kind: ApiKeyKind;
  /** The key's mode (its sk_test_/sk_live_ prefix; always the server's, a key of the other mode is refused). */
  mode: "test" | "live";
  /** The member who created the key (null: created by a script or since removed): the maker of what it asks for. */
  createdByUserId: string | null;
}

const INVALID_KEY = () => new AppError("unauthenticated", "Invalid API key", { userMessage: "Invalid API key provided." });

/**
 * Resolves a presented key and counts this request on the key's rate-limit window (bucket `key:<key id>`, the
 * window of `now`), in ONE statement. Unknown, malformed and revoked keys are all plain "unauthenticated" and count
 * nothing; a key of a kind not in `countKinds` (the endpoint will refuse it) counts nothing either. Returns the
 * principal and the window's count including this request (0 when it was not counted).
 */
export async function authenticateApiKeyCounted(db: DbOrTx, presented: string | null, countKinds: readonly ApiKeyKind[], now = Date.now()): Promise<{ principal: ApiKeyPrincipal; count: number }> {
  if (!presented || !/^(sk|pk)_(test|live)_[0-9A-Za-z]{32}$/.test(presented)) throw INVALID_KEY();
  const mismatch = apiKeyModeMismatch(presented, env.PSP_MODE);
  if (mismatch) throw new AppError("unauthenticated", `API key mode mismatch: ${mismatch}`, { userMessage: mismatch });
  const windowStart = new Date(rateLimitWindowStart(now)).toISOString();
  const kinds = sql.join(countKinds.map((k) => sql`${k}`), sql`, `);
  const rows = await db.execute<{ id: string; merchant_id: string; kind: ApiKeyKind; revoked_at: string | null; last_used_at: string | null; created_by_user_id: string | null; counted: number | null }>(sql`
    with k as (
      select ${apiKeys.id} as id, ${apiKeys.merchantId} as merchant_id, ${apiKeys.kind} as kind, ${apiKeys.revokedAt} as revoked_at,
             ${apiKeys.lastUsedAt} as last_used_at, ${apiKeys.createdByUserId} as created_by_user_id
      from ${apiKeys} where ${apiKeys.keyHash} = ${sha256Hex(presented)}
    ), counted as (
      insert into ${rateLimitCounters} (bucket, window_start, count)
      select 'key:' || k.id, ${windowStart}::timestamptz, 1 from k where k.revoked_at is null and k.kind in (${kinds})
      on conflict (bucket, window_start) do update set count = ${rateLimitCounters}.count + 1
      returning count
    )
    select k.*, (select count from counted) as counted from k`);
  const row = rows[0];
  if (!row || row.revoked_at !== null) throw INVALID_KEY();
  // last_used_at at minute granularity: one write per key per minute, not per request.
  if (!row.last_used_at || Date.now() - new Date(row.last_used_at).getTime() > 60_000) {
    await db.update(apiKeys).set({ lastUsedAt: new Date() }).where(eq(apiKeys.id, row.id));
  }
  const principal: ApiKeyPrincipal = { keyId: row.id, merchantId: row.merchant_id, kind: row.kind, mode: /^(?:sk|pk)_live_/.test(presented) ? "live" : "test", createdByUserId: row.created_by_user_id };
  return { principal, count: Number(row.counted ?? 0) };
}
