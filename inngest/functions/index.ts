import { ping } from "./ping";

// Every function the app serves at /api/inngest. One file per function; add yours to this list.
export const functions = [ping];
