"use server";

import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { inngestConfigFromEnv, usesLocalEngine } from "@/inngest/client";
import { serverCaller } from "@/server/trpc/rsc";

/**
 * Replays a dead letter through the ops router (opsProcedure decides who may), then shows the new run. Only
 * with the local engine: on Inngest nothing executes the run a replay writes (the page hides the button too).
 */
export async function replayDeadLetterAction(formData: FormData): Promise<void> {
  if (!usesLocalEngine(inngestConfigFromEnv())) throw new Error("Replay needs the local engine: re-run the run from Inngest's dashboard, or retry its exception in /ops/exceptions.");
  const runId = String(formData.get("runId") ?? "");
  const { runId: newRunId } = await (await serverCaller()).engineRuns.replay({ runId });
  revalidatePath("/ops/runs");
  redirect(`/ops/runs?run=${encodeURIComponent(newRunId)}`);
}
