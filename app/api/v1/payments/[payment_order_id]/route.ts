import { getDb } from "@/db";
import { getPaymentRoute } from "@/server/payments/routes";

export const GET = getPaymentRoute(getDb);
