import Link from "next/link";
import type { ReactNode } from "react";
import { signOut } from "@/server/auth/config";

export interface ShellNavItem {
  href: string;
  label: string;
  /** A count shown beside the label (e.g. open exceptions); hidden when 0 or absent. */
  badge?: number;
}

export function AppShell(props: {
  title: string;
  subtitle: string;
  userLabel: string;
  nav: ShellNavItem[];
  children: ReactNode;
}) {
  return (
    <div className="flex min-h-screen flex-col md:flex-row">
      <aside className="border-b border-slate-200 bg-white md:w-60 md:border-r md:border-b-0">
        <div className="px-5 py-4">
          <p className="text-lg font-semibold">PayBridge</p>
          <p className="text-xs text-slate-500">{props.subtitle}</p>
        </div>
        <nav aria-label="Main" className="flex gap-1 overflow-x-auto px-3 pb-3 md:flex-col">
          {props.nav.map((item) => (
            <Link key={item.href} href={item.href} className="relative flex shrink-0 items-center gap-2 rounded-md px-3 py-2 text-sm font-medium whitespace-nowrap text-slate-700 hover:bg-slate-100">
              {item.label}
              {/* relative on the link: the badge's sr-only text (absolutely positioned) stays inside the scrolling nav on a phone */}
              {item.badge ? (
                <span className="rounded-full bg-red-700 px-1.5 text-xs leading-5 font-semibold text-white tabular-nums" data-testid="nav-badge">
                  {item.badge}
                  <span className="sr-only"> open</span>
                </span>
              ) : null}
            </Link>
          ))}
        </nav>
      </aside>
      <div className="flex flex-1 flex-col">
        <header className="flex items-center justify-between gap-4 border-b border-slate-200 bg-white px-6 py-3">
          <h1 className="text-lg font-semibold">{props.title}</h1>
          <div className="flex items-center gap-3 text-sm">
            <span className="text-slate-600" data-testid="current-user">
              {props.userLabel}
            </span>
            <form
              action={async () => {
                "use server";
                await signOut({ redirectTo: "/signin" });
              }}
            >
              <button type="submit" className="rounded-md border border-slate-300 px-3 py-1 hover:bg-slate-50">
                Sign out
              </button>
            </form>
          </div>
        </header>
        <main className="flex-1 px-6 py-6">{props.children}</main>
      </div>
    </div>
  );
}
