"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useRef, useState, type FormEvent } from "react";
import { useTRPC } from "@/components/trpc/react";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { Field, Input, Select } from "@/components/ui/field";
import { ACCENT_COLOR_PATTERN, ACCENT_MIN_CONTRAST_WITH_WHITE, contrastRatio, LOGO_MAX_BYTES, WHITE } from "@/server/merchants/branding";

// Settings → General: business profile (name, time zone, support email) and the checkout's branding (display
// name, accent colour, logo by upload or https URL). Viewers see the values, read-only. The server validates
// everything again (server/merchants/update-merchant.schema.ts); field errors come back as zodError.

export interface SettingsValues {
  name: string;
  timeZone: string;
  displayName: string | null;
  logoUrl: string | null;
  accentColor: string | null;
  supportEmail: string | null;
  refundFeePolicy: "keep" | "return";
  negativeBalancePolicy: "allow" | "refuse";
}

/** Labels computed on the server, so the browser's time zone data cannot make the markup differ. */
export interface TimeZoneOption {
  value: string;
  label: string;
}

const DEFAULT_ACCENT = "#1d4ed8";

function useSave() {
  const trpc = useTRPC();
  const router = useRouter();
  const qc = useQueryClient();
  const onSuccess = async () => {
    await qc.invalidateQueries({ queryKey: trpc.merchant.settings.queryKey() });
    await qc.invalidateQueries({ queryKey: trpc.merchant.me.queryKey() });
    router.refresh();
  };
  return { update: useMutation(trpc.merchant.update.mutationOptions({ onSuccess })), upload: useMutation(trpc.merchant.uploadLogo.mutationOptions({ onSuccess })) };
}

function Status({ mutation, saved = "Saved." }: { mutation: { error: { message: string; data?: { zodError?: unknown } | null } | null; isSuccess: boolean }; saved?: string }) {
  if (mutation.error && !mutation.error.data?.zodError) return <p role="alert" className="text-sm text-red-700">{mutation.error.message}</p>;
  if (mutation.error) return <p role="alert" className="text-sm text-red-700">Fix the fields marked above.</p>;
  if (mutation.isSuccess) return <p role="status" className="text-sm text-green-700">{saved}</p>;
  return null;
}

const invalid = (e: string | undefined) => ({ "aria-invalid": e ? true : undefined });

export function MerchantSettingsForm({ settings, timeZones, canEdit }: { settings: SettingsValues; timeZones: readonly TimeZoneOption[]; canEdit: boolean }) {
  return (
    <>
      <ProfileCard settings={settings} timeZones={timeZones} canEdit={canEdit} />
      <BrandingCard settings={settings} canEdit={canEdit} />
      <RefundPoliciesCard settings={settings} canEdit={canEdit} />
      {canEdit ? null : <p className="text-sm text-slate-600">Only merchant admins can change settings.</p>}
    </>
  );
}

function ProfileCard({ settings, timeZones, canEdit }: { settings: SettingsValues; timeZones: readonly TimeZoneOption[]; canEdit: boolean }) {
  const { update } = useSave();
  const [name, setName] = useState(settings.name);
  const [timeZone, setTimeZone] = useState(settings.timeZone);
  const [supportEmail, setSupportEmail] = useState(settings.supportEmail ?? "");
  const fe = (f: string) => update.error?.data?.zodError?.fieldErrors[f]?.[0];
  const submit = (e: FormEvent) => {
    e.preventDefault();
    update.mutate({ name, timeZone, supportEmail });
  };
  const zones = timeZones.some((z) => z.value === settings.timeZone) ? timeZones : [{ value: settings.timeZone, label: settings.timeZone }, ...timeZones];
  return (
    <Card title="Business profile" description="Your business as your team and your buyers see it.">
      <form className="flex max-w-lg flex-col gap-4" onSubmit={submit} data-testid="profile-form">
        <Field label="Business name" htmlFor="settings-name" error={fe("name")}>
          <Input id="settings-name" name="name" value={name} onChange={(e) => setName(e.target.value)} disabled={!canEdit} maxLength={120} {...invalid(fe("name"))} aria-describedby={fe("name") ? "settings-name-error" : undefined} />
        </Field>
        <Field label="Time zone" htmlFor="settings-time-zone" error={fe("timeZone")} hint="Every time in the dashboard is shown in this zone.">
          <Select id="settings-time-zone" name="timeZone" value={timeZone} onChange={(e) => setTimeZone(e.target.value)} disabled={!canEdit} {...invalid(fe("timeZone"))} aria-describedby={fe("timeZone") ? "settings-time-zone-error" : "settings-time-zone-hint"}>
            {zones.map((z) => (
              <option key={z.value} value={z.value}>
                {z.label}
              </option>
            ))}
          </Select>
        </Field>
        <Field label="Support email" htmlFor="settings-support-email" error={fe("supportEmail")} hint="Shown to buyers on the checkout and its receipt. Leave empty for none.">
          <Input id="settings-support-email" name="supportEmail" type="email" value={supportEmail} onChange={(e) => setSupportEmail(e.target.value)} disabled={!canEdit} maxLength={254} {...invalid(fe("supportEmail"))} aria-describedby={fe("supportEmail") ? "settings-support-email-error" : "settings-support-email-hint"} />
        </Field>
        {canEdit ? (
          <div className="flex items-center gap-3">
            <Button type="submit" variant="primary" disabled={update.isPending}>
              {update.isPending ? "Saving…" : "Save profile"}
            </Button>
            <Status mutation={update} />
          </div>
        ) : null}
      </form>
    </Card>
  );
}

function readAsBase64(file: File): Promise<string> {
  return file.arrayBuffer().then((buf) => {
    const bytes = new Uint8Array(buf);
    let binary = "";
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(binary);
  });
}

function BrandingCard({ settings, canEdit }: { settings: SettingsValues; canEdit: boolean }) {
  const { update, upload } = useSave();
  const [displayName, setDisplayName] = useState(settings.displayName ?? "");
  const [accent, setAccent] = useState(settings.accentColor ?? "");
  const uploaded = settings.logoUrl?.startsWith("/api/branding/") ?? false;
  const [logoUrl, setLogoUrl] = useState(uploaded ? "" : (settings.logoUrl ?? ""));
  const [fileError, setFileError] = useState<string | null>(null);
  const fileRef = useRef<HTMLInputElement>(null);
  const fe = (f: string) => update.error?.data?.zodError?.fieldErrors[f]?.[0];
  const accentValid = ACCENT_COLOR_PATTERN.test(accent.toLowerCase());
  const ratio = accentValid ? contrastRatio(accent.toLowerCase(), WHITE) : undefined;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    // An uploaded logo stays unless a URL replaces it (the URL field is empty while an upload is in use).
    update.mutate({ displayName, accentColor: accent, ...(logoUrl !== "" || !uploaded ? { logoUrl } : {}) });
  };
  const onFile = async (file: File | undefined) => {
    setFileError(null);
    if (!file) return;
    if (file.size > LOGO_MAX_BYTES) return setFileError(`The logo must be at most ${LOGO_MAX_BYTES / 1024} KB.`);
    upload.mutate({ dataBase64: await readAsBase64(file) });
    if (fileRef.current) fileRef.current.value = "";
  };
  const preview = settings.logoUrl;
  return (
    <Card title="Checkout branding" description="What buyers see on your hosted checkout.">
      <div className="flex flex-col gap-6 lg:flex-row">
        <form className="flex max-w-lg flex-1 flex-col gap-4" onSubmit={submit} data-testid="branding-form">
          <Field label="Display name" htmlFor="settings-display-name" error={fe("displayName")} hint="Leave empty to show the business name.">
            <Input id="settings-display-name" name="displayName" value={displayName} onChange={(e) => setDisplayName(e.target.value)} disabled={!canEdit} maxLength={80} placeholder={settings.name} {...invalid(fe("displayName"))} aria-describedby={fe("displayName") ? "settings-display-name-error" : "settings-display-name-hint"} />
          </Field>
          <Field
            label="Accent colour"
            htmlFor="settings-accent"
            error={fe("accentColor")}
            hint={ratio !== undefined ? `White text on it: contrast ${ratio.toFixed(2)}:1 (needs ${ACCENT_MIN_CONTRAST_WITH_WHITE}:1).` : "#rrggbb. The Pay button uses it with white text, so it must be dark enough. Leave empty for the default."}
          >
            <div className="flex items-center gap-2">
              <input
                type="color"
                aria-label="Pick the accent colour"
                value={accentValid ? accent.toLowerCase() : DEFAULT_ACCENT}
                onChange={(e) => setAccent(e.target.value)}
                disabled={!canEdit}
                className="h-9 w-12 cursor-pointer rounded border border-slate-300 bg-white disabled:cursor-not-allowed"
              />
              <Input id="settings-accent" name="accentColor" value={accent} onChange={(e) => setAccent(e.target.value)} disabled={!canEdit} maxLength={7} placeholder={DEFAULT_ACCENT} className="max-w-32 font-mono" {...invalid(fe("accentColor"))} aria-describedby={fe("accentColor") ? "settings-accent-error" : "settings-accent-hint"} />
            </div>
          </Field>
          <Field label="Logo URL" htmlFor="settings-logo-url" error={fe("logoUrl")} hint={uploaded ? "An uploaded logo is in use. Enter an https:// URL to use that instead." : "An https:// address of an image, or upload one below."}>
            <Input id="settings-logo-url" name="logoUrl" type="url" value={logoUrl} onChange={(e) => setLogoUrl(e.target.value)} disabled={!canEdit} maxLength={2048} placeholder="https://" {...invalid(fe("logoUrl"))} aria-describedby={fe("logoUrl") ? "settings-logo-url-error" : "settings-logo-url-hint"} />
          </Field>
          {canEdit ? (
            <div className="flex items-center gap-3">
              <Button type="submit" variant="primary" disabled={update.isPending}>
                {update.isPending ? "Saving…" : "Save branding"}
              </Button>
              <Status mutation={update} />
            </div>
          ) : null}
        </form>
        <div className="flex flex-col gap-3 lg:w-64">
          <p className="text-sm font-medium text-slate-700">Preview</p>
          <div className="flex flex-col items-start gap-3 rounded-lg border border-slate-200 p-4" data-testid="branding-preview">
            {preview ? (
              // eslint-disable-next-line @next/next/no-img-element -- a merchant's own URL or our logo route: not for next/image's optimiser
              <img src={preview} alt={`${settings.displayName ?? settings.name} logo`} className="max-h-12 max-w-full object-contain" />
            ) : (
              <p className="text-sm text-slate-600">No logo</p>
            )}
            <p className="text-sm font-semibold text-slate-900">{settings.displayName ?? settings.name}</p>
            <span className="rounded-md px-4 py-2 text-sm font-medium" style={{ backgroundColor: settings.accentColor ?? DEFAULT_ACCENT, color: WHITE }}>
              Pay
            </span>
          </div>
          {canEdit ? (
            <div className="flex flex-col gap-2">
              <Field label="Upload a logo" htmlFor="settings-logo-file" error={fileError} hint={`PNG, JPEG or WebP, at most ${LOGO_MAX_BYTES / 1024} KB.`}>
                <input
                  ref={fileRef}
                  id="settings-logo-file"
                  type="file"
                  accept="image/png,image/jpeg,image/webp"
                  onChange={(e) => void onFile(e.target.files?.[0])}
                  aria-describedby={fileError ? "settings-logo-file-error" : "settings-logo-file-hint"}
                  className="text-sm text-slate-700 file:mr-3 file:rounded-md file:border file:border-slate-300 file:bg-white file:px-3 file:py-1.5 file:text-sm file:font-medium"
                />
              </Field>
              {upload.isPending ? <p role="status" className="text-sm text-slate-600">Uploading…</p> : <Status mutation={upload} saved="Logo uploaded." />}
              {preview ? (
                <Button variant="secondary" size="sm" className="self-start" disabled={update.isPending} onClick={() => update.mutate({ logoUrl: null })}>
                  Remove logo
                </Button>
              ) : null}
            </div>
          ) : null}
        </div>
      </div>
    </Card>
  );
}

/** Refunds: whether a refund gives the seller back the platform fee's share, and whether it may leave them owing. */
function RefundPoliciesCard({ settings, canEdit }: { settings: SettingsValues; canEdit: boolean }) {
  const { update } = useSave();
  const [negativeBalancePolicy, setNegativeBalancePolicy] = useState(settings.negativeBalancePolicy);
  const fe = (f: string) => update.error?.data?.zodError?.fieldErrors[f]?.[0];
  const submit = (e: FormEvent) => {
    e.preventDefault();
    update.mutate({ negativeBalancePolicy });
  };
  return (
    <Card title="Refunds" description="How a refund is booked against the seller it refunds.">
      <form className="flex max-w-lg flex-col gap-4" onSubmit={submit} data-testid="refund-policies-form">
        <div className="text-sm" data-testid="refund-fee-policy">
          <p className="font-medium text-slate-900">Platform fee on refunds</p>
          <p className="text-slate-600">
            {settings.refundFeePolicy === "return"
              ? "Returned pro rata: the fee's share of a refunded amount goes back to the seller."
              : "Kept: the seller bears the whole refund and the platform fee stays."}{" "}
            The platform operator sets this, like the fee itself.
          </p>
        </div>
        <Field
          label="Refunds above the seller's balance"
          htmlFor="settings-negative-balance-policy"
          error={fe("negativeBalancePolicy")}
          hint="Allow: the seller owes the rest, netted from their next payout. Refuse: such a refund is refused."
        >
          <Select id="settings-negative-balance-policy" name="negativeBalancePolicy" value={negativeBalancePolicy} onChange={(e) => setNegativeBalancePolicy(e.target.value as SettingsValues["negativeBalancePolicy"])} disabled={!canEdit} {...invalid(fe("negativeBalancePolicy"))} aria-describedby={fe("negativeBalancePolicy") ? "settings-negative-balance-policy-error" : "settings-negative-balance-policy-hint"}>
            <option value="allow">Allow (the seller owes the rest)</option>
            <option value="refuse">Refuse the refund</option>
          </Select>
        </Field>
        {canEdit ? (
          <div className="flex items-center gap-3">
            <Button type="submit" variant="primary" disabled={update.isPending}>
              {update.isPending ? "Saving…" : "Save refund settings"}
            </Button>
            <Status mutation={update} />
          </div>
        ) : null}
      </form>
    </Card>
  );
}
