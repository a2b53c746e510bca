"use client";

import { useRouter } from "next/navigation";
import { useEffect } from "react";

/**
 * Re-renders the (server) page while `active`: a refund still with the PSP. Every 1 s growing ×1.5 to 5 s, for at
 * most 3 minutes; then a reload shows what changed since.
 */
export function RefreshWhile({ active }: { active: boolean }) {
  const router = useRouter();
  useEffect(() => {
    if (!active) return;
    let delay = 1_000;
    let timer: ReturnType<typeof setTimeout>;
    const started = Date.now();
    const tick = () => {
      if (Date.now() - started > 180_000) return;
      router.refresh();
      delay = Math.min(delay * 1.5, 5_000);
      timer = setTimeout(tick, delay);
    };
    timer = setTimeout(tick, delay);
    return () => clearTimeout(timer);
  }, [active, router]);
  return null;
}
