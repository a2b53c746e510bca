import { getDb } from "@/db";
import { otherMethods } from "@/server/http/route-fallbacks";
import { createPayoutRoute, listPayoutsRoute } from "@/server/payouts/routes";

export const POST = createPayoutRoute(getDb);
export const GET = listPayoutsRoute(getDb);
export const HEAD = GET;

const other = otherMethods(["GET", "POST"]);
export const PUT = other.PUT;
export const PATCH = other.PATCH;
export const DELETE = other.DELETE;
export const OPTIONS = other.OPTIONS;
