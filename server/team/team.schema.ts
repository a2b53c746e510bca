import { z } from "zod";
import { MERCHANT_ROLES } from "@/server/auth/access";
import { PASSWORD_MAX_BYTES, PASSWORD_MIN_LENGTH } from "@/server/auth/password";

/** RFC 5321's limit on a forward path. */
export const EMAIL_MAX = 254;
export const MEMBER_NAME_MAX = 120;

export const ZEmail = z.string().trim().toLowerCase().max(EMAIL_MAX, `Email must be at most ${EMAIL_MAX} characters`).pipe(z.email("Enter a valid email address"));
const ZRole = z.enum(MERCHANT_ROLES, { message: "Role must be merchant_admin or merchant_viewer" });
/** Generated ids are usr_ + 26 base32 characters; seeded ones (usr_demo_admin) are shorter: any usr_ id of ours. */
const ZUserId = z.string().regex(/^usr_[0-9A-Za-z_]{1,64}$/, "not a user id");
const ZInvitationId = z.string().regex(/^inv_[0-9A-Z]{26}$/, "not an invitation id");

export const ZInviteMemberInputSchema = z.object({ email: ZEmail, role: ZRole });
export type TInviteMemberInputSchema = z.infer<typeof ZInviteMemberInputSchema>;

export const ZInvitationIdInputSchema = z.object({ invitationId: ZInvitationId });
export type TInvitationIdInputSchema = z.infer<typeof ZInvitationIdInputSchema>;

export const ZChangeMemberRoleInputSchema = z.object({ userId: ZUserId, role: ZRole });
export type TChangeMemberRoleInputSchema = z.infer<typeof ZChangeMemberRoleInputSchema>;

export const ZRemoveMemberInputSchema = z.object({ userId: ZUserId });
export type TRemoveMemberInputSchema = z.infer<typeof ZRemoveMemberInputSchema>;

/** The same rules as server/auth/password.ts hashPassword, as field errors. */
export const ZNewPassword = z
  .string()
  .min(PASSWORD_MIN_LENGTH, `Password must be at least ${PASSWORD_MIN_LENGTH} characters`)
  .refine((p) => Buffer.byteLength(p) <= PASSWORD_MAX_BYTES, `Password must be at most ${PASSWORD_MAX_BYTES} bytes`);

/** Accepting as a new user: a name and a password for the account the invitation creates. */
export const ZAcceptAsNewUserSchema = z.object({
  name: z.string().trim().min(1, "Name is required").max(MEMBER_NAME_MAX, `Name must be at most ${MEMBER_NAME_MAX} characters`),
  password: ZNewPassword,
});
export type TAcceptAsNewUserSchema = z.infer<typeof ZAcceptAsNewUserSchema>;

/** Accepting as the existing user with the invited email: their current password proves it is them. */
export const ZAcceptAsExistingUserSchema = z.object({ password: z.string().min(1, "Enter your password").max(200) });
export type TAcceptAsExistingUserSchema = z.infer<typeof ZAcceptAsExistingUserSchema>;
