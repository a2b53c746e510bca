import type { Metadata, Viewport } from "next";
import { connection } from "next/server";
import type { ReactNode } from "react";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "PayBridge", template: "%s · PayBridge" },
  description: "Payments for multi-seller commerce: hosted checkout, ledger, payouts, reconciliation.",
};
export const viewport: Viewport = { width: "device-width", initialScale: 1 };

export default async function RootLayout({ children }: { children: ReactNode }) {
  // Every page is rendered per request: its scripts carry the nonce of that request's Content-Security-Policy
  // (proxy.ts); a page prerendered at build time would have none and its scripts would be refused.
  await connection();
  return (
    <html lang="en">
      <body className="min-h-screen font-sans">{children}</body>
    </html>
  );
}
