-- Ledger integrity enforced by the database, whatever the code does (docs/ledger.md).
-- 1. Accounts, transactions and entries are append-only: UPDATE, DELETE and TRUNCATE are refused
--    (refuse_mutation() comes from 0001_audit_log_append_only). A correction is a new transaction.
CREATE TRIGGER ledger_accounts_append_only
  BEFORE UPDATE OR DELETE ON ledger_accounts
  FOR EACH ROW EXECUTE FUNCTION refuse_mutation();
--> statement-breakpoint
CREATE TRIGGER ledger_accounts_no_truncate
  BEFORE TRUNCATE ON ledger_accounts
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_mutation();
--> statement-breakpoint
CREATE TRIGGER ledger_transactions_append_only
  BEFORE UPDATE OR DELETE ON ledger_transactions
  FOR EACH ROW EXECUTE FUNCTION refuse_mutation();
--> statement-breakpoint
CREATE TRIGGER ledger_transactions_no_truncate
  BEFORE TRUNCATE ON ledger_transactions
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_mutation();
--> statement-breakpoint
CREATE TRIGGER ledger_entries_append_only
  BEFORE UPDATE OR DELETE ON ledger_entries
  FOR EACH ROW EXECUTE FUNCTION refuse_mutation();
--> statement-breakpoint
CREATE TRIGGER ledger_entries_no_truncate
  BEFORE TRUNCATE ON ledger_entries
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_mutation();
--> statement-breakpoint
-- 2. A transaction balances: at commit, its entries sum to zero per currency and there are at least two.
--    Deferred so the entries can be inserted in any order within the posting's DB transaction.
CREATE OR REPLACE FUNCTION ledger_assert_balanced(txn_id text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  entry_count integer;
  bad_currency text;
BEGIN
  SELECT count(*) INTO entry_count FROM ledger_entries WHERE transaction_id = txn_id;
  IF entry_count < 2 THEN
    RAISE EXCEPTION 'ledger transaction % has % entries; at least 2 are required', txn_id, entry_count
      USING ERRCODE = 'check_violation';
  END IF;
  SELECT currency INTO bad_currency FROM ledger_entries WHERE transaction_id = txn_id
    GROUP BY currency HAVING sum(amount) <> 0 LIMIT 1;
  IF bad_currency IS NOT NULL THEN
    RAISE EXCEPTION 'ledger transaction % does not balance in %', txn_id, bad_currency
      USING ERRCODE = 'check_violation';
  END IF;
END;
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION ledger_entries_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM ledger_assert_balanced(NEW.transaction_id);
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION ledger_transactions_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM ledger_assert_balanced(NEW.id);
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER ledger_entries_balanced
  AFTER INSERT ON ledger_entries DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION ledger_entries_check_balanced();
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER ledger_transactions_balanced
  AFTER INSERT ON ledger_transactions DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION ledger_transactions_check_balanced();
--> statement-breakpoint
-- 3. Balance rows are never deleted, and only their amount changes (identity and flags are fixed).
CREATE OR REPLACE FUNCTION ledger_balances_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.account_id <> OLD.account_id OR NEW.shard <> OLD.shard OR NEW.normal_sign <> OLD.normal_sign
     OR NEW.allow_negative <> OLD.allow_negative THEN
    RAISE EXCEPTION 'only the balance of a ledger_balances row may change' USING ERRCODE = 'restrict_violation';
  END IF;
  RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER ledger_balances_update_guard
  BEFORE UPDATE ON ledger_balances
  FOR EACH ROW EXECUTE FUNCTION ledger_balances_guard();
--> statement-breakpoint
CREATE TRIGGER ledger_balances_no_delete
  BEFORE DELETE ON ledger_balances
  FOR EACH ROW EXECUTE FUNCTION refuse_mutation();
--> statement-breakpoint
CREATE TRIGGER ledger_balances_no_truncate
  BEFORE TRUNCATE ON ledger_balances
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_mutation();
--> statement-breakpoint
-- 4. Holds: placed -> released | captured, once; nothing but the transition fields changes; never deleted.
CREATE OR REPLACE FUNCTION wallet_holds_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.status <> 'placed' OR NEW.status NOT IN ('released', 'captured') THEN
    RAISE EXCEPTION 'wallet hold % cannot go from % to %', OLD.id, OLD.status, NEW.status
      USING ERRCODE = 'restrict_violation';
  END IF;
  IF NEW.id <> OLD.id OR NEW.seller_id <> OLD.seller_id OR NEW.reference <> OLD.reference
     OR NEW.currency <> OLD.currency OR NEW.amount <> OLD.amount
     OR NEW.place_transaction_id <> OLD.place_transaction_id THEN
    RAISE EXCEPTION 'wallet hold % is immutable except for its status', OLD.id USING ERRCODE = 'restrict_violation';
  END IF;
  RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER wallet_holds_transition_guard
  BEFORE UPDATE ON wallet_holds
  FOR EACH ROW EXECUTE FUNCTION wallet_holds_guard();
--> statement-breakpoint
CREATE TRIGGER wallet_holds_no_delete
  BEFORE DELETE ON wallet_holds
  FOR EACH ROW EXECUTE FUNCTION refuse_mutation();
