// Settings: time zone, branding (display name, logo upload or https URL, accent colour with its contrast rule),
// support email; validation that writes nothing, viewers read-only, audit rows with the changed fields, and the
// public logo route. Real Postgres; the route handler is called with real Requests.
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZodError } from "zod";
import { auditLog, merchants } from "@/db/schema";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { callerFor, createMerchant, createUser, trpcErrorCode } from "@/test/fixtures";
import { contrastRatio, isSupportedTimeZone, readableTextOn, sniffLogoType, TIME_ZONES } from "./branding";

const PNG_1PX = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
const SVG = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>').toString("base64");
const GIF = Buffer.from("GIF89a\x01\x00\x01\x00\x00\x00\x00", "latin1").toString("base64");
const WEBP = Buffer.concat([Buffer.from("RIFF"), Buffer.from([0x1a, 0, 0, 0]), Buffer.from("WEBPVP8 "), Buffer.alloc(10)]).toString("base64");

let t: TestDatabase;
let merchantId: string;
let adminId: string;
let viewerId: string;

beforeAll(async () => {
  t = await createTestDatabase();
  merchantId = (await createMerchant(t.db, "Settings Traders")).id;
  adminId = (await createUser(t.db, { merchantId, role: "merchant_admin" })).id;
  viewerId = (await createUser(t.db, { merchantId, role: "merchant_viewer" })).id;
});
afterAll(async () => t?.drop());

const settingsAudits = async () => t.db.select().from(auditLog).where(and(eq(auditLog.merchantId, merchantId), eq(auditLog.action, "merchant.settings_updated")));
const merchantRow = async () => (await t.db.select().from(merchants).where(eq(merchants.id, merchantId)))[0]!;
/** The first validation message on `field` (the in-process caller's TRPCError carries the ZodError as its cause). */
const fieldError = async (p: Promise<unknown>, field: string) =>
  p.then(
    () => undefined,
    (e: { cause?: unknown }) => (e.cause instanceof ZodError ? e.cause.issues.find((i) => i.path[0] === field)?.message : undefined) ?? "(no field error)",
  );

describe("branding rules", () => {
  it("time zones: UTC and the runtime's IANA list", () => {
    expect(TIME_ZONES[0]).toBe("UTC");
    expect(isSupportedTimeZone("Africa/Nairobi")).toBe(true);
    expect(isSupportedTimeZone("Mars/Olympus_Mons")).toBe(false);
    expect(isSupportedTimeZone("africa/nairobi")).toBe(false);
  });
  it("contrast: WCAG ratios, and the readable text colour", () => {
    expect(contrastRatio("#ffffff", "#000000")).toBeCloseTo(21, 5);
    expect(contrastRatio("#ffffff", "#ffffff")).toBeCloseTo(1, 5);
    expect(contrastRatio("#ffffff", "#767676")).toBeCloseTo(4.54, 2);
    expect(readableTextOn("#1d4ed8")).toBe("#ffffff");
    expect(readableTextOn("#ffff00")).toBe("#0f172a");
  });
  it("logo types come from the magic bytes", () => {
    expect(sniffLogoType(Buffer.from(PNG_1PX, "base64"))).toBe("image/png");
    expect(sniffLogoType(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0]))).toBe("image/jpeg");
    expect(sniffLogoType(Buffer.from(WEBP, "base64"))).toBe("image/webp");
    expect(sniffLogoType(Buffer.from(SVG, "base64"))).toBeUndefined();
    expect(sniffLogoType(Buffer.from(GIF, "base64"))).toBeUndefined();
  });
});

describe("merchant.update (settings)", () => {
  it("saves a time zone, branding and support email, auditing exactly the changed fields", async () => {
    const saved = await callerFor(t.db, adminId).merchant.update({ timeZone: "Africa/Nairobi", displayName: "  Settings Shop ", accentColor: "#1D4ED8", supportEmail: "Help@Settings.example", logoUrl: "https://cdn.example.com/logo.png" });
    expect(saved).toMatchObject({ timeZone: "Africa/Nairobi", displayName: "Settings Shop", accentColor: "#1d4ed8", supportEmail: "help@settings.example", logoUrl: "https://cdn.example.com/logo.png", name: "Settings Traders" });
    const audits = await settingsAudits();
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({ actorUserId: adminId, targetType: "merchant", targetId: merchantId });
    expect(audits[0]!.data).toEqual({
      fields: ["timeZone", "displayName", "logoUrl", "accentColor", "supportEmail"],
      timeZone: { from: "UTC", to: "Africa/Nairobi" },
      displayName: { from: null, to: "Settings Shop" },
      logoUrl: { from: null, to: "https://cdn.example.com/logo.png" },
      accentColor: { from: null, to: "#1d4ed8" },
      supportEmail: { from: null, to: "help@settings.example" },
    });
    // The same values again: nothing changes, nothing is audited.
    await callerFor(t.db, adminId).merchant.update({ timeZone: "Africa/Nairobi", accentColor: "#1d4ed8" });
    expect(await settingsAudits()).toHaveLength(1);
    // "" clears an optional setting.
    expect(await callerFor(t.db, adminId).merchant.update({ displayName: "" })).toMatchObject({ displayName: null });
    expect((await settingsAudits()).at(-1)!.data).toEqual({ fields: ["displayName"], displayName: { from: "Settings Shop", to: null } });
  });

  it("refuses a bad zone, colour, URL or email with a field error, writing nothing", async () => {
    const before = await merchantRow();
    const audits = (await settingsAudits()).length;
    const admin = callerFor(t.db, adminId);
    expect(await fieldError(admin.merchant.update({ timeZone: "Mars/Olympus_Mons" }), "timeZone")).toMatch(/time zone/);
    expect(await fieldError(admin.merchant.update({ timeZone: "x".repeat(200) }), "timeZone")).toMatch(/time zone/);
    expect(await fieldError(admin.merchant.update({ accentColor: "red" }), "accentColor")).toMatch(/#rrggbb/);
    expect(await fieldError(admin.merchant.update({ accentColor: "#12345" }), "accentColor")).toMatch(/#rrggbb/);
    // Yellow: white text on it is unreadable, so the checkout button would fail AA.
    expect(await fieldError(admin.merchant.update({ accentColor: "#ffff00" }), "accentColor")).toMatch(/contrast of 1\.07:1.*4\.5:1/);
    expect(await fieldError(admin.merchant.update({ logoUrl: "http://cdn.example.com/logo.png" }), "logoUrl")).toMatch(/https/);
    expect(await fieldError(admin.merchant.update({ logoUrl: "javascript:alert(1)" }), "logoUrl")).toMatch(/https/);
    expect(await fieldError(admin.merchant.update({ logoUrl: "https://user:pw@cdn.example.com/l.png" }), "logoUrl")).toMatch(/https/);
    expect(await fieldError(admin.merchant.update({ logoUrl: `https://cdn.example.com/${"a".repeat(2100)}` }), "logoUrl")).toMatch(/2048/);
    expect(await fieldError(admin.merchant.update({ supportEmail: "nope" }), "supportEmail")).toMatch(/valid/);
    expect(await fieldError(admin.merchant.update({ displayName: "d".repeat(81) }), "displayName")).toMatch(/80/);
    expect(await trpcErrorCode(admin.merchant.update({}))).toBe("BAD_REQUEST");
    // One bad field spoils the whole update.
    expect(await trpcErrorCode(admin.merchant.update({ name: "Renamed", accentColor: "#ffff00" }))).toBe("BAD_REQUEST");
    expect(await merchantRow()).toEqual(before);
    expect(await settingsAudits()).toHaveLength(audits);
  });

  it("viewers read the settings and cannot change them", async () => {
    const viewer = callerFor(t.db, viewerId);
    expect(await viewer.merchant.settings()).toMatchObject({ id: merchantId, timeZone: "Africa/Nairobi" });
    const before = await merchantRow();
    expect(await trpcErrorCode(viewer.merchant.update({ timeZone: "UTC" }))).toBe("FORBIDDEN");
    expect(await merchantRow()).toEqual(before);
  });
});

