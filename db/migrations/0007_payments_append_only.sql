-- Payment order history is append-only; refuse_mutation() comes from migration 0001.
CREATE TRIGGER payment_order_transitions_append_only
  BEFORE UPDATE OR DELETE ON payment_order_transitions
  FOR EACH ROW EXECUTE FUNCTION refuse_mutation();
--> statement-breakpoint
CREATE TRIGGER payment_order_transitions_no_truncate
  BEFORE TRUNCATE ON payment_order_transitions
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_mutation();
--> statement-breakpoint
CREATE TRIGGER risk_decisions_append_only
  BEFORE UPDATE OR DELETE ON risk_decisions
  FOR EACH ROW EXECUTE FUNCTION refuse_mutation();
