import { and, eq, isNotNull, ne, sql } from "drizzle-orm";
import type { Db, Tx } from "@/db/client";
import { idempotencyKeys } from "@/db/schema";
import { canonicalJson } from "@/server/crypto/canonical-json";
import { sha256Hex } from "@/server/crypto/field";
import { AppError } from "@/server/errors";

// Stripe-style idempotency for the public API (after Brandur Leach's "atomic phases" design):
//  - the key is scoped to the merchant and bound to a fingerprint of the request;
//  - same key + same request replays the stored response; a different request -> 422; while the first
//    request still holds the key -> 409;
//  - work happens in atomic phases, each committing its effects together with the new recovery point, so a
//    request retried after a crash resumes after the last committed phase instead of repeating it;
//  - the lock is a short lease that the request renews while it runs (startLockHeartbeat): a request that
//    died (crash, kill -9) frees its key within IDEMPOTENCY_LOCK_TIMEOUT_MS, a slow live one keeps it;
//  - a replay sends the first answer's exact bytes (response_text), not a re-serialization;
//  - records live 24 h.

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/** The lock's lease: a lock not renewed for this long belongs to a request that died; the next retry may take over. */
export const IDEMPOTENCY_LOCK_TIMEOUT_MS = 10_000;
/** How often a running request renews its lock: several renewals fit in one lease, so a slow beat does not lose it. */
export const IDEMPOTENCY_HEARTBEAT_MS = 2_000;
export const IDEMPOTENCY_KEY_MAX = 255;
export const FINISHED = "finished";

export interface StoredResponse {
  status: number;
  body: unknown;
}
/** A stored answer as replayed: its status and the exact JSON text first sent. */
export interface ReplayResponse {
  status: number;
  text: string;
}
export interface IdempotencyRef {
  merchantId: string;
  key: string;
  recoveryPoint: string;
  recoveryData: Record<string, unknown>;
}
export type BeginResult = { kind: "replay"; response: ReplayResponse } | { kind: "proceed"; ref: IdempotencyRef };

/** The response's bytes: what the first answer sends and what every replay sends again. */
export function responseText(body: unknown): string {
  return JSON.stringify(body);
}

export function requestFingerprint(method: string, path: string, body: unknown): string {
  return sha256Hex(`${method.toUpperCase()} ${path}\n${canonicalJson(body)}`);
}

export function validateIdempotencyKey(key: string | null): string {
  if (!key) throw new AppError("validation_failed", "The Idempotency-Key header is required on POST requests");
  if (key.length > IDEMPOTENCY_KEY_MAX || !/^[\x21-\x7e]+$/.test(key)) {
    throw new AppError("validation_failed", `Idempotency-Key must be 1–${IDEMPOTENCY_KEY_MAX} printable ASCII characters`);
  }
  return key;
}

export async function beginIdempotentRequest(
  db: Db,
  req: { merchantId: string; key: string; method: string; path: string; requestHash: string },
): Promise<BeginResult> {
  const now = new Date();
  const expiresAt = new Date(now.getTime() + IDEMPOTENCY_TTL_MS);
  const fresh = { method: req.method, path: req.path, requestHash: req.requestHash, lockedAt: now, recoveryPoint: "started", recoveryData: {}, responseStatus: null, responseText: null, expiresAt };
  const proceed = (recoveryPoint: string, recoveryData: Record<string, unknown>): BeginResult => ({
    kind: "proceed",
    ref: { merchantId: req.merchantId, key: req.key, recoveryPoint, recoveryData },
  });
  /** Takes the key if no record holds it: true when this request's record went in. */
  const take = async (q: Db | Tx) =>
    (await q.insert(idempotencyKeys).values({ merchantId: req.merchantId, key: req.key, ...fresh }).onConflictDoNothing().returning({ key: idempotencyKeys.key })).length > 0;
  // A new key (the common case) is one statement on its own, no BEGIN/COMMIT around it: the insert either takes
  // the key atomically or does nothing. Only a key that exists already needs the locked read below.
  if (await take(db)) return proceed("started", {});

  return db.transaction(async (tx) => {
    const where = and(eq(idempotencyKeys.merchantId, req.merchantId), eq(idempotencyKeys.key, req.key));
    const [row] = await tx.select().from(idempotencyKeys).where(where).for("update");
    if (!row) {
      // Swept (it had expired) between the insert above and this read: the key is free again, so take it now.
      if (await take(tx)) return proceed("started", {});
      throw new AppError("internal", "Idempotency record vanished under its lock");
    }
    if (row.expiresAt <= now) {
      await tx.update(idempotencyKeys).set({ ...fresh, createdAt: now }).where(where);
      return proceed("started", {});
    }
    if (row.requestHash !== req.requestHash) throw new AppError("idempotency_key_reused");
    if (row.recoveryPoint === FINISHED) return { kind: "replay", response: { status: row.responseStatus!, text: row.responseText ?? "null" } };
    if (row.lockedAt && now.getTime() - row.lockedAt.getTime() < IDEMPOTENCY_LOCK_TIMEOUT_MS) {
      throw new AppError("idempotency_key_in_use");
    }
    await tx.update(idempotencyKeys).set({ lockedAt: now }).where(where);
    return proceed(row.recoveryPoint, row.recoveryData);
  });
}

function whereRef(ref: IdempotencyRef) {
  return and(eq(idempotencyKeys.merchantId, ref.merchantId), eq(idempotencyKeys.key, ref.key));
}

/** Records a completed phase inside the phase's own transaction (so effects and recovery point commit together). */
export async function recordPhase(tx: Tx, ref: IdempotencyRef, phase: string, data: Record<string, unknown>): Promise<void> {
  await tx
    .update(idempotencyKeys)
    .set({ recoveryPoint: phase, recoveryData: sql`${idempotencyKeys.recoveryData} || ${JSON.stringify(data)}::jsonb` })
    .where(whereRef(ref));
  ref.recoveryPoint = phase;
  ref.recoveryData = { ...ref.recoveryData, ...data };
}

/**
 * Stores the final response and releases the key, inside the last phase's transaction. A record that is
 * already finished (a request that took the key over after a stale lock finished first) is never
 * overwritten: the first stored answer is the key's answer.
 */
export async function finishIdempotentRequest(tx: Tx, ref: IdempotencyRef, response: StoredResponse): Promise<void> {
  await tx
    .update(idempotencyKeys)
    .set({ recoveryPoint: FINISHED, responseStatus: response.status, responseText: responseText(response.body), lockedAt: null })
    .where(and(whereRef(ref), ne(idempotencyKeys.recoveryPoint, FINISHED)));
}

/**
 * Renews the lock every `intervalMs` while the request runs, so only a request that stopped running (its process
 * died) loses its key after the lease. Renews only a held lock of an unfinished record. `stop()` (in a finally,
 * before the key is finished or released) waits for a renewal in flight so none lands after it.
 */
export function startLockHeartbeat(db: Db, ref: IdempotencyRef, intervalMs = IDEMPOTENCY_HEARTBEAT_MS): { stop(): Promise<void> } {
  let inFlight: Promise<unknown> | undefined;
  const timer = setInterval(() => {
    if (inFlight) return; // the last renewal is still running: skip a beat rather than queue them
    inFlight = db
      .update(idempotencyKeys)
      .set({ lockedAt: new Date() })
      .where(and(whereRef(ref), ne(idempotencyKeys.recoveryPoint, FINISHED), isNotNull(idempotencyKeys.lockedAt)))
      .catch(() => {}) // a failed renewal only shortens the lease; the next beat tries again
      .finally(() => {
        inFlight = undefined;
      });
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await inFlight;
    },
  };
}

/** A request that failed for a reason of ours (5xx) releases the key so a retry can resume. */
export async function releaseIdempotencyKey(db: Db, ref: IdempotencyRef): Promise<void> {
  await db.update(idempotencyKeys).set({ lockedAt: null }).where(and(whereRef(ref), ne(idempotencyKeys.recoveryPoint, FINISHED)));
}

/** Deterministic request errors (4xx) are final for this key, like Stripe: the retry gets the same error. */
export async function finishWithError(db: Db, ref: IdempotencyRef, response: StoredResponse): Promise<void> {
  await db.transaction((tx) => finishIdempotentRequest(tx, ref, response));
}
