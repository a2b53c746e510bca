import bcrypt from "bcryptjs";

// bcrypt (pure JS, no native build) with a named cost. Verification is constant-time inside bcrypt.
export const PASSWORD_HASH_COST = 11;
export const PASSWORD_MIN_LENGTH = 10;
/** bcrypt only reads 72 bytes; longer input is refused rather than silently truncated. */
export const PASSWORD_MAX_BYTES = 72;

export function hashPassword(password: string): Promise<string> {
  if (password.length < PASSWORD_MIN_LENGTH) throw new Error(`Password must be at least ${PASSWORD_MIN_LENGTH} characters`);
  if (Buffer.byteLength(password) > PASSWORD_MAX_BYTES) throw new Error(`Password must be at most ${PASSWORD_MAX_BYTES} bytes`);
  return bcrypt.hash(password, PASSWORD_HASH_COST);
}

export function verifyPassword(password: string, hash: string): Promise<boolean> {
  if (Buffer.byteLength(password) > PASSWORD_MAX_BYTES) return Promise.resolve(false);
  return bcrypt.compare(password, hash);
}

let dummyHash: Promise<string> | undefined;
/** Burn the same bcrypt time when the user does not exist, so timing does not reveal which emails have accounts. */
export async function verifyAgainstDummy(password: string): Promise<false> {
  dummyHash ??= bcrypt.hash("not-a-real-password", PASSWORD_HASH_COST);
  await bcrypt.compare(password.slice(0, PASSWORD_MAX_BYTES), await dummyHash);
  return false;
}
