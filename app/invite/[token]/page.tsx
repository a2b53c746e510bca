import type { Metadata } from "next";
import { headers } from "next/headers";
import Link from "next/link";
import type { ReactNode } from "react";
import { AcceptInvitationForm } from "@/components/invite/accept-invitation-form";
import { formatDateTime } from "@/components/ui/format";
import { getDb } from "@/db";
import { PASSWORD_MIN_LENGTH } from "@/server/auth/password";
import { AppError } from "@/server/errors";
import { clientIpFromHeaders } from "@/server/http/client-ip";
import { previewInvitation, type InvitationPreview } from "@/server/team/accept-invitation";
import { UNUSABLE_INVITATION_MESSAGE } from "@/server/team/invitation-status";

export const metadata: Metadata = { title: "Join a team", robots: { index: false } };
export const dynamic = "force-dynamic";

const ROLE_LABEL = { merchant_admin: "Admin", merchant_viewer: "Viewer" } as const;
const ROLE_HINT = {
  merchant_admin: "Admins manage payments, developers' settings, the team and the business settings.",
  merchant_viewer: "Viewers see payments and settings but cannot change them.",
} as const;

function Frame({ title, children }: { title: string; children: ReactNode }) {
  return (
    <main id="main" className="mx-auto flex min-h-screen max-w-md flex-col justify-center gap-6 px-6 py-10">
      <p className="text-sm font-semibold tracking-wide text-brand-700">PayBridge</p>
      <h1 className="text-2xl font-semibold text-slate-900">{title}</h1>
      {children}
    </main>
  );
}

function Unusable({ title, message }: { title: string; message: string }) {
  return (
    <Frame title={title}>
      <p className="text-sm text-slate-700" data-testid="invitation-unusable">
        {message}
      </p>
      <Link href="/signin" className="text-sm text-brand-700 underline">
        Go to sign in
      </Link>
    </Frame>
  );
}

// Public on purpose: the token in the link is the invitee's capability (only its sha256 is stored). Lookups are
// rate-limited per client and site-wide on unknown tokens (server/team/invitation-rate-limit.ts).
export default async function InvitePage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  let preview: InvitationPreview;
  try {
    preview = await previewInvitation(getDb(), { token, clientIp: clientIpFromHeaders(await headers()) });
  } catch (err) {
    if (err instanceof AppError && err.code === "rate_limited") return <Unusable title="Too many attempts" message={err.userMessage} />;
    throw err;
  }
  if (preview.status === "unknown") return <Unusable title="Invitation not found" message="This invitation link is not valid. Check that you copied all of it, or ask an admin of the team for a new one." />;
  if (preview.status !== "pending") {
    const titles = { expired: "Invitation expired", revoked: "Invitation withdrawn", accepted: "Invitation already used" } as const;
    return <Unusable title={titles[preview.status]} message={UNUSABLE_INVITATION_MESSAGE[preview.status]} />;
  }
  return (
    <Frame title={`Join ${preview.merchantName}`}>
      <div className="flex flex-col gap-1 text-sm text-slate-700" data-testid="invitation-summary">
        <p>
          You are invited to the <strong>{preview.merchantName}</strong> team on PayBridge as <strong data-testid="invitation-role">{ROLE_LABEL[preview.role]}</strong>.
        </p>
        <p className="text-slate-600">{ROLE_HINT[preview.role]}</p>
        <p className="text-slate-600">The invitation expires {formatDateTime(preview.expiresAt, preview.timeZone)}.</p>
      </div>
      <AcceptInvitationForm token={token} email={preview.email} userExists={preview.userExists} minPasswordLength={PASSWORD_MIN_LENGTH} />
    </Frame>
  );
}
