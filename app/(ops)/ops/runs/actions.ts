"use server";

import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { serverCaller } from "@/server/trpc/rsc";

/** Replays a dead letter through the ops router (opsProcedure decides who may), then shows the new run. */
export async function replayDeadLetterAction(formData: FormData): Promise<void> {
  const runId = String(formData.get("runId") ?? "");
  const { runId: newRunId } = await (await serverCaller()).engineRuns.replay({ runId });
  revalidatePath("/ops/runs");
  redirect(`/ops/runs?run=${encodeURIComponent(newRunId)}`);
}
