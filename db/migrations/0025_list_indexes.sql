CREATE INDEX "audit_log_created_idx" ON "audit_log" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "checkouts_buyer_ip_idx" ON "checkouts" USING btree ("buyer_ip","created_at");