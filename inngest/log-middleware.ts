import { Middleware } from "inngest";
import { log, withLogContext } from "@/server/observability/log";

// Every function's handler and every step's handler run inside a log context with the run id the SDK gives
// (ctx.runId), the triggering event's id and name and the function id, so each pino line logged from domain
// code during a run carries them (server/observability/log.ts). Registered once on the client
// (inngest/client.ts), so a new function gets it without doing anything.

type Ctx = { runId?: string; event?: { id?: string; name?: string } };

/** fnId as the engine and Inngest name it: `<app id>-<function id>`. */
function runContext(ctx: unknown, fn: { id: (prefix?: string) => string }, appId: string) {
  const c = ctx as Ctx;
  return { runId: c.runId, eventId: c.event?.id, eventName: c.event?.name, fnId: fn.id(appId) };
}

export class RunLogContext extends Middleware.BaseMiddleware {
  readonly id = "paybridge-log-context";

  override wrapFunctionHandler({ ctx, fn, next }: Middleware.WrapFunctionHandlerArgs): Promise<unknown> {
    return withLogContext(runContext(ctx, fn, this.client.id), next);
  }

  override wrapStepHandler({ ctx, fn, next, stepInfo }: Middleware.WrapStepHandlerArgs): Promise<unknown> {
    return withLogContext({ ...runContext(ctx, fn, this.client.id), step: stepInfo.options.id }, next);
  }

  override onStepError({ ctx, fn, error, isFinalAttempt, stepInfo }: Middleware.OnStepErrorArgs): void {
    withLogContext(runContext(ctx, fn, this.client.id), () => log.warn({ step: stepInfo.options.id, isFinalAttempt, err: error }, "inngest step failed"));
  }

  override onRunError({ ctx, fn, error, isFinalAttempt }: Middleware.OnRunErrorArgs): void {
    withLogContext(runContext(ctx, fn, this.client.id), () => (isFinalAttempt ? log.error : log.warn).call(log, { isFinalAttempt, err: error }, "inngest run failed"));
  }
}
