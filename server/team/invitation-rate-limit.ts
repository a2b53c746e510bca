import type { Db } from "@/db/client";
import { AppError } from "@/server/errors";
import { consumeClientRateLimit } from "@/server/rate-limit/consume";
import { consumeWindow, peekWindow, type WindowLimit } from "@/server/rate-limit/window";
import { INVITATION_TOKEN_PATTERN } from "./invitation-token";

// Token guessing on /invite/<token>. A token is 32 random bytes, so guessing cannot succeed; these limits keep
// the page from being a free database probe all the same:
//   - per client IP (when the trusted proxies name the client): INVITE_LOOKUPS_PER_IP_PER_MIN, every lookup;
//   - across all clients: at most INVITE_MISSES_PER_MIN unknown well-formed tokens a minute. Past it, an unknown
//     token is refused (rate_limited) rather than answered until the window slides. A valid token is never refused
//     because of others' misses (anyone could otherwise lock every invitee out), and a malformed token is not
//     counted (it cannot be a guess).

export const INVITE_LOOKUPS_PER_IP_PER_MIN = 30;
export const INVITE_MISSES_PER_MIN = 200;
export const INVITE_MISS_WINDOW: WindowLimit = { bucket: "invite_token_misses", limit: INVITE_MISSES_PER_MIN, windowMs: 60_000 };

function refused(resetS: number): AppError {
  return new AppError("rate_limited", `Too many invitation links were tried. Try again in ${resetS} s.`, { details: { retryAfterS: resetS } });
}

/** Before reading a token: refuses a client that tried too many. */
export async function admitInvitationLookup(db: Db, clientIp: string | undefined): Promise<void> {
  const perIp = await consumeClientRateLimit(db, "invite", clientIp, INVITE_LOOKUPS_PER_IP_PER_MIN);
  if (!perIp.allowed) throw refused(perIp.resetS);
}

/** After a token matched no invitation: counts a well-formed one, and refuses it once the site's ceiling is reached. */
export async function recordInvitationMiss(db: Db, token: string): Promise<void> {
  if (!INVITATION_TOKEN_PATTERN.test(token)) return;
  const misses = await peekWindow(db, INVITE_MISS_WINDOW);
  if (!misses.allowed) throw refused(misses.resetS);
  await consumeWindow(db, INVITE_MISS_WINDOW);
}
