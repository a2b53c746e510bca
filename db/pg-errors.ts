// Postgres error codes we act on. Drizzle wraps driver errors, so the code may sit on `cause`.
export const PG_UNIQUE_VIOLATION = "23505";
export const PG_DEADLOCK_DETECTED = "40P01";
export const PG_SERIALIZATION_FAILURE = "40001";
/** A NUL character (or one the encoding cannot hold) in text or jsonb: the client's input, not our failure. */
export const PG_CHARACTER_NOT_IN_REPERTOIRE = "22021";
export const PG_UNTRANSLATABLE_CHARACTER = "22P05";

export function pgErrorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | null | undefined;
  const code = e?.code ?? e?.cause?.code;
  return typeof code === "string" ? code : undefined;
}
