// Logo upload (merchant.uploadLogo) and the public logo route that serves it, with real Requests. DATABASE_URL is
// set before the first import of server/env.js (which reads it once): everything that reaches it is imported after.
import { createHash } from "node:crypto";
import { and, count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditLog, merchantLogos, merchants } from "@/db/schema";
import { createTestDatabase, pointRoutesAt, type TestDatabase } from "@/test/db";

const PNG_1PX = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
const SVG = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>').toString("base64");
const GIF = Buffer.from("GIF89a\x01\x00\x01\x00\x00\x00\x00", "latin1").toString("base64");
const WEBP = Buffer.concat([Buffer.from("RIFF"), Buffer.from([0x1a, 0, 0, 0]), Buffer.from("WEBPVP8 "), Buffer.alloc(10)]).toString("base64");
const LOGO_MAX_BYTES = 512 * 1024;

let t: TestDatabase;
let merchantId: string;
let adminId: string;
let viewerId: string;
let logoRoute: typeof import("./route");
let fixtures: typeof import("@/test/fixtures");
let AppErrorClass: typeof import("@/server/errors").AppError;

beforeAll(async () => {
  t = await createTestDatabase();
  pointRoutesAt(t);
  logoRoute = await import("./route");
  fixtures = await import("@/test/fixtures");
  AppErrorClass = (await import("@/server/errors")).AppError;
  merchantId = (await fixtures.createMerchant(t.db, "Logo Traders")).id;
  adminId = (await fixtures.createUser(t.db, { merchantId, role: "merchant_admin" })).id;
  viewerId = (await fixtures.createUser(t.db, { merchantId, role: "merchant_viewer" })).id;
  await fixtures.callerFor(t.db, adminId).merchant.update({ logoUrl: "https://cdn.example.com/logo.png" });
});
afterAll(async () => t?.drop());

const callerFor = (userId: string) => fixtures.callerFor(t.db, userId);
const trpcErrorCode = (p: Promise<unknown>) => fixtures.trpcErrorCode(p);
const settingsAudits = async () => t.db.select().from(auditLog).where(and(eq(auditLog.merchantId, merchantId), eq(auditLog.action, "merchant.settings_updated")));
const merchantRow = async () => (await t.db.select().from(merchants).where(eq(merchants.id, merchantId)))[0]!;
const appCodeOf = async (p: Promise<unknown>) => p.then(() => undefined, (e: { cause?: unknown }) => (e.cause instanceof AppErrorClass ? e.cause.code : undefined));
const getLogo = (id: string, query = "", headers: Record<string, string> = {}) =>
  logoRoute.GET(new Request(`http://localhost:3000/api/branding/${id}/logo${query}`, { headers }), { params: Promise.resolve({ merchantId: id }) });

it("viewers cannot upload", async () => {
  expect(await trpcErrorCode(callerFor(viewerId).merchant.uploadLogo({ dataBase64: PNG_1PX }))).toBe("FORBIDDEN");
  expect(await t.db.select().from(merchantLogos)).toHaveLength(0);
});

describe("logo upload and the logo route", () => {
  it("stores a PNG, points logo_url at the route with its sha256, and serves it with its type, nosniff and caching", async () => {
    const res = await callerFor(adminId).merchant.uploadLogo({ dataBase64: PNG_1PX });
    const sha = createHash("sha256").update(Buffer.from(PNG_1PX, "base64")).digest("hex");
    expect(res).toEqual({ logoUrl: `/api/branding/${merchantId}/logo?v=${sha}`, contentType: "image/png", bytes: Buffer.from(PNG_1PX, "base64").length });
    expect((await merchantRow()).logoUrl).toBe(res.logoUrl);
    expect((await settingsAudits()).at(-1)!.data).toMatchObject({ fields: ["logoUrl"], logoUrl: { from: "https://cdn.example.com/logo.png", to: res.logoUrl }, upload: { contentType: "image/png", sha256: sha } });

    const served = await getLogo(merchantId, `?v=${sha}`);
    expect(served.status).toBe(200);
    expect(served.headers.get("content-type")).toBe("image/png");
    expect(served.headers.get("x-content-type-options")).toBe("nosniff");
    expect(served.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(served.headers.get("etag")).toBe(`"${sha}"`);
    expect(Buffer.from(await served.arrayBuffer()).toString("base64")).toBe(PNG_1PX);
    // Another version (or none) is not cached for good; the ETag revalidates it.
    expect((await getLogo(merchantId, "?v=old")).headers.get("cache-control")).toBe("public, max-age=0, must-revalidate");
    expect((await getLogo(merchantId, "", { "if-none-match": `"${sha}"` })).status).toBe(304);
    expect((await getLogo("mer_00000000000000000000000000")).status).toBe(404);
    expect((await getLogo("../../etc")).status).toBe(404);
  });

  it("refuses SVG (whatever it claims), GIF, empty, oversize and non-base64 input, writing nothing", async () => {
    const before = await merchantRow();
    const [logoBefore] = await t.db.select().from(merchantLogos).where(eq(merchantLogos.merchantId, merchantId));
    const audits = (await settingsAudits()).length;
    const admin = callerFor(adminId);
    expect(await appCodeOf(admin.merchant.uploadLogo({ dataBase64: SVG }))).toBe("validation_failed");
    expect(await appCodeOf(admin.merchant.uploadLogo({ dataBase64: GIF }))).toBe("validation_failed");
    expect(await appCodeOf(admin.merchant.uploadLogo({ dataBase64: "" }))).toBe("validation_failed");
    // Just over 512 KB: past the base64 length check only by rounding, refused after decoding.
    const justOver = Buffer.concat([Buffer.from(PNG_1PX, "base64"), Buffer.alloc(LOGO_MAX_BYTES + 1 - Buffer.from(PNG_1PX, "base64").length)]);
    expect(await appCodeOf(admin.merchant.uploadLogo({ dataBase64: justOver.toString("base64") }))).toBe("payload_too_large");
    expect(await trpcErrorCode(admin.merchant.uploadLogo({ dataBase64: Buffer.alloc(600 * 1024).toString("base64") }))).toBe("BAD_REQUEST");
    expect(await trpcErrorCode(admin.merchant.uploadLogo({ dataBase64: "not base64 at all!" }))).toBe("BAD_REQUEST");
    expect(await merchantRow()).toEqual(before);
    const [logoAfter] = await t.db.select().from(merchantLogos).where(eq(merchantLogos.merchantId, merchantId));
    expect(logoAfter).toEqual(logoBefore);
    expect(await settingsAudits()).toHaveLength(audits);
  });

  it("a WebP replaces the PNG; switching to an https URL drops the stored image", async () => {
    const admin = callerFor(adminId);
    expect((await admin.merchant.uploadLogo({ dataBase64: WEBP })).contentType).toBe("image/webp");
    expect((await getLogo(merchantId)).headers.get("content-type")).toBe("image/webp");
    await admin.merchant.update({ logoUrl: "https://cdn.example.com/new.png" });
    expect((await t.db.select({ n: count() }).from(merchantLogos).where(eq(merchantLogos.merchantId, merchantId)))[0]!.n).toBe(0);
    expect((await getLogo(merchantId)).status).toBe(404);
    expect(await admin.merchant.update({ logoUrl: null })).toMatchObject({ logoUrl: null });
  });
});
