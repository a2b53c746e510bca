CREATE INDEX "ledger_balance_snapshots_cutoff_idx" ON "ledger_balance_snapshots" USING btree ("cutoff","account_id");--> statement-breakpoint
-- A snapshot row or run that changed silently would change every point-in-time balance read through it: no UPDATE.
-- (The repair of a wrong snapshot is to delete every run from the wrong one on, with its rows: docs/ledger.md.)
CREATE TRIGGER ledger_balance_snapshots_no_update BEFORE UPDATE ON ledger_balance_snapshots
  FOR EACH ROW EXECUTE FUNCTION refuse_mutation();--> statement-breakpoint
CREATE TRIGGER ledger_snapshot_runs_no_update BEFORE UPDATE ON ledger_snapshot_runs
  FOR EACH ROW EXECUTE FUNCTION refuse_mutation();
