// Transactional outbox (docs/inngest-engine.md#outbox): enqueue in the domain transaction, dispatch after commit.
export { enqueueEvent, OutboxEventConflictError, type OutboxEventInput } from "./enqueue-event";
export { dispatchOnce, startOutboxDispatcher, type OutboxDispatcher, type OutboxSend } from "./dispatcher";
