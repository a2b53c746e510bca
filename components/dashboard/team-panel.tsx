"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import { useTRPC } from "@/components/trpc/react";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { DataTable, type ColumnDef } from "@/components/ui/data-table";
import { Dialog } from "@/components/ui/dialog";
import { Field, Input, Select } from "@/components/ui/field";
import { ShownOnce } from "@/components/ui/shown-once";
import { Time } from "@/components/ui/time";

// Settings → Team: members and pending invitations. Admins invite by email with a role (the link is shown once:
// there is no email service, the admin sends it), resend or revoke invitations, change roles and remove members.
// Viewers see the same lists without any of those controls; the procedures refuse them anyway (server/team/).

type Role = "merchant_admin" | "merchant_viewer";
const ROLE_LABEL: Record<Role, string> = { merchant_admin: "Admin", merchant_viewer: "Viewer" };

interface MemberRow {
  userId: string;
  email: string;
  name: string | null;
  role: Role;
  joinedAt: Date | string;
}
interface InvitationRow {
  id: string;
  email: string;
  role: Role;
  createdAt: Date | string;
  expiresAt: Date | string;
  expired: boolean;
  invitedByEmail: string | null;
}

function ErrorText({ error }: { error: { message: string } | null }) {
  return error ? (
    <p role="alert" className="text-sm text-red-700">
      {error.message}
    </p>
  ) : null;
}

export function TeamPanel({ canEdit, currentUserId }: { canEdit: boolean; currentUserId: string }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const router = useRouter();
  const team = useQuery(trpc.team.list.queryOptions());
  const refresh = () => qc.invalidateQueries({ queryKey: trpc.team.list.queryKey() });
  const [shown, setShown] = useState<{ link: string; email: string } | null>(null);
  const [removing, setRemoving] = useState<MemberRow | null>(null);

  // Changing your own role or leaving ends your sessions (the membership trigger bumps the session epoch): sign in again.
  const afterOwnChange = (userId: string) => {
    if (userId === currentUserId) router.replace("/signin");
  };
  const changeRole = useMutation(trpc.team.changeRole.mutationOptions({ onSuccess: (r) => (r.changed ? afterOwnChange(r.userId) : undefined), onSettled: refresh }));
  const remove = useMutation(
    trpc.team.removeMember.mutationOptions({
      onSuccess: (r) => {
        setRemoving(null);
        afterOwnChange(r.userId);
      },
      onSettled: refresh,
    }),
  );
  const resend = useMutation(trpc.team.resendInvitation.mutationOptions({ onSuccess: (r) => setShown({ link: r.link, email: r.invitation.email }), onSettled: refresh }));
  const revoke = useMutation(trpc.team.revokeInvitation.mutationOptions({ onSettled: refresh }));

  const memberColumns: ColumnDef<MemberRow, unknown>[] = [
    {
      id: "member",
      header: "Member",
      cell: ({ row }) => (
        <div className="flex flex-col">
          <span className="font-medium text-slate-900">
            {row.original.name ?? row.original.email}
            {row.original.userId === currentUserId ? <span className="ml-1 text-slate-600">(you)</span> : null}
          </span>
          {row.original.name ? <span className="text-xs text-slate-600">{row.original.email}</span> : null}
        </div>
      ),
    },
    {
      id: "role",
      header: "Role",
      cell: ({ row }) =>
        canEdit ? (
          <Select
            aria-label={`Role of ${row.original.email}`}
            value={row.original.role}
            disabled={changeRole.isPending}
            onChange={(e) => changeRole.mutate({ userId: row.original.userId, role: e.target.value as Role })}
            className="w-auto"
            data-testid="member-role"
          >
            <option value="merchant_admin">Admin</option>
            <option value="merchant_viewer">Viewer</option>
          </Select>
        ) : (
          <Badge tone={row.original.role === "merchant_admin" ? "info" : "neutral"} data-role={row.original.role}>
            {ROLE_LABEL[row.original.role]}
          </Badge>
        ),
    },
    { id: "joined", header: "Joined", cell: ({ row }) => <Time value={row.original.joinedAt} />, meta: { priority: "low" } },
  ];
  if (canEdit) {
    memberColumns.push({
      id: "actions",
      // A visible header, not meta.srLabel: the table's sr-only span would sit past a phone's edge (see the remove button).
      header: "Actions",
      meta: { align: "right" },
      cell: ({ row }) => (
        // aria-label, not an sr-only span: an absolutely positioned span inside a table that scrolls sideways would
        // widen the whole document on a phone.
        <Button variant="ghost" size="sm" onClick={() => setRemoving(row.original)} aria-label={`Remove ${row.original.email}`} data-testid="remove-member">
          Remove
        </Button>
      ),
    });
  }

  const invitationColumns: ColumnDef<InvitationRow, unknown>[] = [
    { id: "email", header: "Email", cell: ({ row }) => row.original.email },
    { id: "role", header: "Role", cell: ({ row }) => ROLE_LABEL[row.original.role] },
    { id: "invited", header: "Invited", cell: ({ row }) => <Time value={row.original.createdAt} />, meta: { priority: "low" } },
    {
      id: "expires",
      header: "Expires",
      cell: ({ row }) =>
        row.original.expired ? (
          <Badge tone="warning" data-status="expired">
            Expired
          </Badge>
        ) : (
          <Time value={row.original.expiresAt} />
        ),
    },
  ];
  if (canEdit) {
    invitationColumns.push({
      id: "actions",
      // A visible header, not meta.srLabel: the table's sr-only span would sit past a phone's edge (see the remove button).
      header: "Actions",
      meta: { align: "right" },
      cell: ({ row }) => (
        <div className="flex justify-end gap-1">
          <Button variant="ghost" size="sm" disabled={resend.isPending} onClick={() => resend.mutate({ invitationId: row.original.id })} aria-label={`Resend the invitation to ${row.original.email}`} data-testid="resend-invitation">
            Resend
          </Button>
          <Button variant="ghost" size="sm" disabled={revoke.isPending} onClick={() => revoke.mutate({ invitationId: row.original.id })} aria-label={`Revoke the invitation to ${row.original.email}`} data-testid="revoke-invitation">
            Revoke
          </Button>
        </div>
      ),
    });
  }

  return (
    <div className="flex flex-col gap-4">
      {canEdit ? <InviteForm onInvited={(link, email) => setShown({ link, email })} onDone={refresh} /> : <p className="text-sm text-slate-600">Only merchant admins can invite members or change roles.</p>}
      {shown ? (
        <ShownOnce
          message={`Send this link to ${shown.email} yourself (PayBridge sends no email). It is shown only this once and works for 7 days.`}
          value={shown.link}
          testId="invitation-link"
          onDone={() => setShown(null)}
        />
      ) : null}
      <Card title="Members" description="People who can sign in to this merchant's dashboard.">
        <ErrorText error={changeRole.error} />
        <DataTable
          columns={memberColumns}
          data={team.data?.members}
          getRowId={(m) => m.userId}
          caption="Team members"
          loading={team.isPending}
          error={team.error}
          empty={{ title: "No members" }}
          rowTestId="member-row"
          rowProps={(m) => ({ "data-email": m.email, "data-role": m.role })}
        />
      </Card>
      <Card title="Pending invitations" description="Invitations not yet accepted. An expired one can be resent.">
        <ErrorText error={resend.error ?? revoke.error} />
        <DataTable
          columns={invitationColumns}
          data={team.data?.invitations}
          getRowId={(i) => i.id}
          caption="Pending invitations"
          loading={team.isPending}
          error={team.error}
          empty={{ title: "No pending invitations", description: canEdit ? "Invite someone with the form above." : undefined }}
          rowTestId="invitation-row"
          rowProps={(i) => ({ "data-email": i.email })}
        />
      </Card>
      <Dialog
        open={removing !== null}
        onOpenChange={(open) => {
          if (!open) {
            setRemoving(null);
            remove.reset();
          }
        }}
        title="Remove this member?"
        description={removing ? `${removing.email} will lose access to this merchant at once.` : undefined}
      >
        <div className="flex flex-col gap-3">
          <ErrorText error={remove.error} />
          <div className="flex justify-end gap-2">
            <Button variant="secondary" onClick={() => setRemoving(null)}>
              Cancel
            </Button>
            <Button variant="danger" disabled={remove.isPending} onClick={() => removing && remove.mutate({ userId: removing.userId })} data-testid="confirm-remove-member">
              {remove.isPending ? "Removing…" : "Remove"}
            </Button>
          </div>
        </div>
      </Dialog>
    </div>
  );
}

function InviteForm({ onInvited, onDone }: { onInvited: (link: string, email: string) => void; onDone: () => void }) {
  const trpc = useTRPC();
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("merchant_viewer");
  const invite = useMutation(
    trpc.team.invite.mutationOptions({
      onSuccess: (r) => {
        onInvited(r.link, r.invitation.email);
        setEmail("");
      },
      onSettled: onDone,
    }),
  );
  const emailError = invite.error?.data?.zodError?.fieldErrors.email?.[0];
  const submit = (e: FormEvent) => {
    e.preventDefault();
    invite.mutate({ email, role });
  };
  return (
    <Card title="Invite a member" description="They get a link to set up their account (or to join with the one they have).">
      <form className="flex flex-col gap-3 sm:flex-row sm:items-end" onSubmit={submit} data-testid="invite-form">
        <Field label="Email" htmlFor="invite-email" error={emailError} className="flex-1">
          <Input id="invite-email" name="email" type="email" required maxLength={254} value={email} onChange={(e) => setEmail(e.target.value)} aria-invalid={emailError ? true : undefined} aria-describedby={emailError ? "invite-email-error" : undefined} />
        </Field>
        <Field label="Role" htmlFor="invite-role">
          <Select id="invite-role" name="role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
            <option value="merchant_viewer">Viewer</option>
            <option value="merchant_admin">Admin</option>
          </Select>
        </Field>
        <Button type="submit" variant="primary" disabled={invite.isPending}>
          {invite.isPending ? "Inviting…" : "Invite"}
        </Button>
      </form>
      {invite.error && !emailError ? (
        <p role="alert" className="mt-2 text-sm text-red-700">
          {invite.error.message}
        </p>
      ) : null}
    </Card>
  );
}
