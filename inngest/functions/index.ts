import { getDb } from "@/db";
import { getConnector } from "@/server/psp";
import { inngest } from "../client";
import { createDisputeFunctions } from "./disputes";
import { createExceptionFunctions } from "./exceptions";
import { createHousekeeping } from "./housekeeping";
import { createMerchantWebhookFunctions } from "./merchant-webhooks";
import { createPaymentFunctions } from "./payments";
import { createPayoutScheduleFunctions } from "./payout-schedule";
import { createPayoutFunctions } from "./payouts";
import { createReconciliationFunctions } from "./reconciliation";
import { ping } from "./ping";
import { createReencryptFields } from "./reencrypt-fields";
import { createRefundFunctions } from "./refunds";
import { createSettlementFunctions } from "./settlement";

// Every function the app serves at /api/inngest. One file per function (or per small family); add yours here.
export const functions = [
  ping,
  createHousekeeping(inngest, { getDb, connectorFor: getConnector }),
  ...createPaymentFunctions(inngest, { getDb, connectorFor: getConnector }),
  ...createMerchantWebhookFunctions(inngest, { getDb }),
  createReencryptFields(inngest, { getDb }),
  ...createExceptionFunctions(inngest, { getDb }),
  ...createRefundFunctions(inngest, { getDb, connectorFor: getConnector }),
  ...createDisputeFunctions(inngest, { getDb, connectorFor: getConnector }),
  ...createPayoutScheduleFunctions(inngest, { getDb }),
  ...createSettlementFunctions(inngest, { getDb, connectorFor: getConnector }),
  ...createPayoutFunctions(inngest, { getDb, connectorFor: getConnector }),
  ...createReconciliationFunctions(inngest, { getDb }),
];
