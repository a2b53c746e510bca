import { getDb } from "@/db";
import { getDisputeRoute } from "@/server/disputes/routes";
import { otherMethods } from "@/server/http/route-fallbacks";

export const GET = getDisputeRoute(getDb);
export const HEAD = GET;

const other = otherMethods(["GET"]);
export const POST = other.POST;
export const PUT = other.PUT;
export const PATCH = other.PATCH;
export const DELETE = other.DELETE;
export const OPTIONS = other.OPTIONS;
