/**
 * Disputes (docs/refunds.md): chargebacks and inquiries, created from PSP events only.
 *
 *   syncDispute(db, connectorFor, { psp, pspDisputeId }) (sync-dispute.ts): fetches the dispute from the PSP and
 *     applies it: creates the row, moves the status, posts the withdrawal / reinstatement from its balance movements.
 *   submitDisputeEvidence / acceptDispute (respond.ts): once per dispute, before due_by.
 *   getDisputeView / listDisputes (list-disputes.ts), presentDispute (present.ts).
 *   transitionDispute / createDispute (state-machine.ts): the only writers of disputes.status.
 */
export * from "./types";
export { DISPUTE_TRANSITIONS, createDispute, transitionDispute } from "./state-machine";
