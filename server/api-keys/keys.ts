import { randomInt } from "node:crypto";
import { and, desc, eq, isNull } from "drizzle-orm";
import type { Db, DbOrTx } from "@/db/client";
import { apiKeys } from "@/db/schema";
import { recordAudit } from "@/server/audit/record-audit";
import { sha256Hex } from "@/server/crypto/field";
import { env } from "@/server/env.js";
import { AppError } from "@/server/errors";

// API keys: secret keys (server-to-server) are shown once and stored only as a sha256 hash; publishable
// keys (browser) are public and stored in full. Revocation is immediate: every request re-reads the row.

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

/** Resolves a presented key; unknown, malformed and revoked keys are all plain "unauthenticated". */
export async function authenticateApiKey(db: DbOrTx, presented: string | null): Promise<ApiKeyPrincipal> {
  if (!presented || !/^(sk|pk)_(test|live)_[0-9A-Za-z]{32}$/.test(presented)) {
    throw new AppError("unauthenticated", "Invalid API key", { userMessage: "Invalid API key provided." });
  }
  const mismatch = apiKeyModeMismatch(presented, env.PSP_MODE);
  if (mismatch) throw new AppError("unauthenticated", `API key mode mismatch: ${mismatch}`, { userMessage: mismatch });
  const [row] = await db
    .select({ id: apiKeys.id, merchantId: apiKeys.merchantId, kind: apiKeys.kind, revokedAt: apiKeys.revokedAt, lastUsedAt: apiKeys.lastUsedAt, createdByUserId: apiKeys.createdByUserId })
    .from(apiKeys)
    .where(eq(apiKeys.keyHash, sha256Hex(presented)));
  if (!row || row.revokedAt) throw new AppError("unauthenticated", "Invalid API key", { userMessage: "Invalid API key provided." });
  // last_used_at at minute granularity: one write per key per minute, not per request.
  if (!row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() > 60_000) {
    await db.update(apiKeys).set({ lastUsedAt: new Date() }).where(eq(apiKeys.id, row.id));
  }
  return { keyId: row.id, merchantId: row.merchantId, kind: row.kind, mode: /^(?:sk|pk)_live_/.test(presented) ? "live" : "test", createdByUserId: row.createdByUserId };
}
