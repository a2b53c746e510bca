// The app's own exceptions (docs/architecture.md "Exceptions"): recorded by the Inngest onFailure handlers, the
// payment domain and the janitor; read, retried and resolved by ops (server/ops/exceptions-router.ts).
export { AUTO_RESOLUTION_NAMES, autoResolveExceptions, EXCEPTION_TRANSITIONS, type OpsException } from "./exception-state";
export { EXCEPTION_DETECTORS, runDetector, sweepExceptions, type ExceptionDetector, type SweepResult } from "./janitor";
export { EXCEPTION_AUDIT_TARGET, getException, listExceptions, summarizeExceptions, type ExceptionDetail, type ExceptionPage, type ExceptionSummary, type ListExceptionsInput } from "./read-exceptions";
export { fingerprintOf, merchantIdOf, recordException, type ExceptionSubjectType, type RecordExceptionInput } from "./record-exception";
export { resolveException } from "./resolve-exception";
export { EXCEPTION_SEARCH_MAX, EXCEPTIONS_PAGE_MAX, EXCEPTIONS_PAGE_SIZE, RESOLUTION_NOTE_MAX_LENGTH } from "./limits";
export { retryEventId, retryException } from "./retry-exception";
export { classifyRunFailure, retryEventFrom, type RunFailure } from "./run-failure";
