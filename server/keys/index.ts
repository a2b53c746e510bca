// Field-encryption key rotation: re-encryption batches and progress (docs/security.md).
export { ENCRYPTED_COLUMNS, type EncryptedColumn } from "./encrypted-columns";
export { reencryptBatch, reencryptPass, rotationStatus, REENCRYPT_BATCH_SIZE, type ColumnStatus, type ReencryptPass, type RotationStatus } from "./reencrypt";
