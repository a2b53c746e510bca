import { afterEach, describe, expect, it, vi } from "vitest";

// Failpoints (failpoints.ts) SIGKILL the process where a crash test arms them; nowhere else. Each case imports the
// module afresh with its own environment (it reads PAYBRIDGE_FAILPOINTS once, at import).
async function armedWith(vars: Record<string, string>) {
  vi.resetModules();
  for (const [k, v] of Object.entries(vars)) vi.stubEnv(k, v);
  const kill = vi.spyOn(process, "kill").mockImplementation(() => true);
  vi.spyOn(process.stderr, "write").mockImplementation(() => true);
  const { failpoint } = await import("./failpoints");
  failpoint("payout.after_record");
  return kill;
}

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe("failpoint", () => {
  it("kills the process at an armed point in a test process", async () => {
    expect(await armedWith({ NODE_ENV: "test", PAYBRIDGE_FAILPOINTS: "payout.after_record" })).toHaveBeenCalledWith(process.pid, "SIGKILL");
  });
  it("does nothing at a point not armed, or when none is", async () => {
    expect(await armedWith({ NODE_ENV: "test", PAYBRIDGE_FAILPOINTS: "payout.before_psp_call" })).not.toHaveBeenCalled();
    expect(await armedWith({ NODE_ENV: "test", PAYBRIDGE_FAILPOINTS: "" })).not.toHaveBeenCalled();
  });
  it("never fires in production, nor against live PSPs (real money) whatever NODE_ENV says", async () => {
    expect(await armedWith({ NODE_ENV: "production", PAYBRIDGE_FAILPOINTS: "payout.after_record" })).not.toHaveBeenCalled();
    expect(await armedWith({ NODE_ENV: "development", PSP_MODE: "live", PAYBRIDGE_FAILPOINTS: "payout.after_record" })).not.toHaveBeenCalled();
  });
});
