// Public on purpose: Auth.js's own sign-in / sign-out / session endpoints. Its POSTs also carry Auth.js's CSRF
// token; a cross-origin POST is refused before Auth.js sees it (server/auth/request-origin.ts).
import { handlers } from "@/server/auth/config";
import { refuseCrossOrigin } from "@/server/auth/request-origin";

export const GET = handlers.GET;
export const POST = refuseCrossOrigin(handlers.POST);
