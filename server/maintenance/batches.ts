// How much one housekeeping sweep deletes per table: bounded batches, so no sweep holds long locks on a busy table.
export const SWEEP_BATCH_ROWS = 5_000;
export const SWEEP_BATCHES_MAX = 20;
