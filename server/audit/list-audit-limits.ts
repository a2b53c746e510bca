// Limits of the audit-log list, import-free so the ops page's client component can share them.
export const AUDIT_PAGE_SIZE = 50;
export const AUDIT_PAGE_MAX = 200;
export const AUDIT_ACTOR_MAX = 254;
export const AUDIT_ID_MAX = 200;
