// Every read behind /metrics and /api/health has its own deadline, so a slow or vanished database (or
// engine, or sandbox) makes that part "timeout", never the whole answer late.

export class DeadlineExceeded extends Error {
  constructor(readonly ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = "DeadlineExceeded";
  }
}

/** Settles with p, or rejects with DeadlineExceeded after ms (p keeps running; its late result is dropped). */
export function withDeadline<T>(p: Promise<T> | (() => Promise<T>), ms: number): Promise<T> {
  const promise = typeof p === "function" ? Promise.resolve().then(p) : p;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceeded(ms)), ms);
    timer.unref?.();
  });
  promise.catch(() => {}); // a late rejection after the deadline is not unhandled
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
