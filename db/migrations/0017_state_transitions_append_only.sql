-- Checkout and payment attempt history is append-only, like payment_order_transitions (refuse_mutation() from 0001).
CREATE TRIGGER checkout_transitions_append_only
  BEFORE UPDATE OR DELETE ON checkout_transitions
  FOR EACH ROW EXECUTE FUNCTION refuse_mutation();
--> statement-breakpoint
CREATE TRIGGER checkout_transitions_no_truncate
  BEFORE TRUNCATE ON checkout_transitions
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_mutation();
--> statement-breakpoint
CREATE TRIGGER payment_attempt_transitions_append_only
  BEFORE UPDATE OR DELETE ON payment_attempt_transitions
  FOR EACH ROW EXECUTE FUNCTION refuse_mutation();
--> statement-breakpoint
CREATE TRIGGER payment_attempt_transitions_no_truncate
  BEFORE TRUNCATE ON payment_attempt_transitions
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_mutation();
