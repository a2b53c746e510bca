-- Merchant events stay append-only, except that retention (server/maintenance/retention.ts) may delete one past its
-- 30 days (MERCHANT_EVENT_RETENTION_DAYS; Stripe keeps events for 30 days too). The trigger lets a delete through from
-- 29 days, a day's margin for an app clock ahead of the database's (the sweep's cutoff comes from the app). Updates,
-- and deletes of younger rows, are refused as before; TRUNCATE stays refused by merchant_events_no_truncate.
CREATE OR REPLACE FUNCTION merchant_events_refuse_recent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND OLD.created_at < now() - interval '29 days' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION '% on % is not allowed: the table is append-only', TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END $$;--> statement-breakpoint
DROP TRIGGER merchant_events_append_only ON merchant_events;--> statement-breakpoint
CREATE TRIGGER merchant_events_append_only BEFORE UPDATE OR DELETE ON merchant_events
  FOR EACH ROW EXECUTE FUNCTION merchant_events_refuse_recent();
