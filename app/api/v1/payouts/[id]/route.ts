import { getDb } from "@/db";
import { otherMethods } from "@/server/http/route-fallbacks";
import { getPayoutRoute } from "@/server/payouts/routes";

export const GET = getPayoutRoute(getDb);
export const HEAD = GET;

const other = otherMethods(["GET"]);
export const POST = other.POST;
export const PUT = other.PUT;
export const PATCH = other.PATCH;
export const DELETE = other.DELETE;
export const OPTIONS = other.OPTIONS;
