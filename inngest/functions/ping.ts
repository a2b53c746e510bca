import { inngest } from "../client";
import { platformPing } from "../events";

// A liveness probe through the whole async path: outbox/send -> engine -> serve() -> step -> result.
export const ping = inngest.createFunction(
  { id: "platform-ping", retries: 1, triggers: [{ event: platformPing }] },
  async ({ event, step }) => {
    const echoed = await step.run("echo", () => ({ message: event.data.message, at: new Date().toISOString() }));
    return echoed;
  },
);
