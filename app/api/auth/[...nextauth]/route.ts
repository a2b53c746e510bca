// Public on purpose: Auth.js's own sign-in / sign-out / session endpoints.
import { handlers } from "@/server/auth/config";

export const { GET, POST } = handlers;
