import { getDb } from "@/db";
import { otherMethods } from "@/server/http/route-fallbacks";
import { createPaymentRoute } from "@/server/payments/routes";

export const POST = createPaymentRoute(getDb);

const other = otherMethods(["POST"]);
export const GET = other.GET;
export const HEAD = other.HEAD;
export const PUT = other.PUT;
export const PATCH = other.PATCH;
export const DELETE = other.DELETE;
export const OPTIONS = other.OPTIONS;
