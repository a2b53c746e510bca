// Limits of the ops exceptions queue, shared by the router, the domain functions and the ops page. Imports nothing,
// so the page's client components may import it without pulling server code into the browser bundle.

/** Rows per page of ops.exceptions.list, by default and at most. */
export const EXCEPTIONS_PAGE_SIZE = 50;
export const EXCEPTIONS_PAGE_MAX = 200;
/** Longest search text ops.exceptions.list takes (the page cuts longer text). */
export const EXCEPTION_SEARCH_MAX = 200;
/** Longest note on a resolve / ignore. */
export const RESOLUTION_NOTE_MAX_LENGTH = 1000;
