import { describe, expect, it } from "vitest";
import { assertPublicDestination, isPrivateAddress } from "./public-address";

describe("webhook destinations", () => {
  it.each(["127.0.0.1", "10.1.2.3", "172.20.0.1", "192.168.1.10", "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1", "fd00::1", "fe80::1", "::ffff:127.0.0.1", "not-an-ip"])(
    "%s is private",
    (a) => expect(isPrivateAddress(a)).toBe(true),
  );
  it.each(["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "172.32.0.1"])("%s is public", (a) => expect(isPrivateAddress(a)).toBe(false));

  it("refuses private literal hosts unless private destinations are allowed (sandbox)", async () => {
    await expect(assertPublicDestination("http://127.0.0.1:8080/hook", false)).rejects.toThrow(/private network/);
    await expect(assertPublicDestination("http://[::1]/hook", false)).rejects.toThrow(/private network/);
    await expect(assertPublicDestination("http://169.254.169.254/latest/meta-data", false)).rejects.toThrow(/private network/);
    await expect(assertPublicDestination("http://127.0.0.1:8080/hook", true)).resolves.toBeUndefined();
    await expect(assertPublicDestination("https://8.8.8.8/hook", false)).resolves.toBeUndefined();
  });
});
