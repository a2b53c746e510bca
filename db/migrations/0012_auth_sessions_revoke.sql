-- Sessions end when what they were granted on changes, whatever code or SQL makes the change: a password
-- change, a platform role change, or a membership's removal or role change bumps the user's session epoch, and
-- tokens issued under an older epoch are refused (server/auth/access.ts).
CREATE OR REPLACE FUNCTION revoke_sessions_on_credential_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.password_hash IS DISTINCT FROM OLD.password_hash OR NEW.platform_role IS DISTINCT FROM OLD.platform_role THEN
    NEW.session_epoch := OLD.session_epoch + 1;
  END IF;
  RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER users_revoke_sessions_on_credential_change
  BEFORE UPDATE OF password_hash, platform_role ON users
  FOR EACH ROW EXECUTE FUNCTION revoke_sessions_on_credential_change();
--> statement-breakpoint
CREATE OR REPLACE FUNCTION revoke_sessions_on_membership_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE users SET session_epoch = session_epoch + 1 WHERE id = OLD.user_id;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER memberships_revoke_sessions_on_removal
  AFTER DELETE ON memberships
  FOR EACH ROW EXECUTE FUNCTION revoke_sessions_on_membership_change();
--> statement-breakpoint
CREATE TRIGGER memberships_revoke_sessions_on_role_change
  AFTER UPDATE OF role, user_id ON memberships
  FOR EACH ROW WHEN (OLD.role IS DISTINCT FROM NEW.role OR OLD.user_id IS DISTINCT FROM NEW.user_id)
  EXECUTE FUNCTION revoke_sessions_on_membership_change();
