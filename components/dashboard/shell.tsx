import type { ReactNode } from "react";
import { signOut } from "@/server/auth/config";
import { NavLinks } from "./nav-links";

export interface ShellNavItem {
  href: string;
  label: string;
  /** A count shown beside the label (e.g. open exceptions); hidden when 0 or absent. */
  badge?: number;
}

/**
 * The dashboard's and the ops console's frame: a skip link, the nav (the current page marked, scrolling sideways on
 * a phone), the header with who is signed in, and the page.
 */
export function AppShell(props: {
  title: string;
  subtitle: string;
  userLabel: string;
  nav: ShellNavItem[];
  /** Beside the title: e.g. the time zone the page's times are in. */
  headerNote?: ReactNode;
  children: ReactNode;
}) {
  return (
    <div className="flex min-h-screen flex-col md:flex-row">
      <a href="#main" className="sr-only z-50 rounded-md bg-white px-3 py-2 text-sm font-medium text-brand-700 shadow focus:not-sr-only focus:fixed focus:top-2 focus:left-2">
        Skip to content
      </a>
      <aside className="min-w-0 border-b border-slate-200 bg-white md:w-60 md:shrink-0 md:border-r md:border-b-0">
        <div className="px-5 py-4">
          <p className="text-lg font-semibold">PayBridge</p>
          <p className="text-xs text-slate-600">{props.subtitle}</p>
        </div>
        <NavLinks nav={props.nav} />
      </aside>
      <div className="flex min-w-0 flex-1 flex-col">
        <header className="flex flex-wrap items-center justify-between gap-x-4 gap-y-2 border-b border-slate-200 bg-white px-4 py-3 md:px-6">
          <div className="min-w-0">
            <h1 className="truncate text-lg font-semibold">{props.title}</h1>
            {props.headerNote ? <p className="text-xs text-slate-600">{props.headerNote}</p> : null}
          </div>
          <div className="flex min-w-0 flex-wrap items-center gap-3 text-sm">
            <span className="truncate text-slate-600" data-testid="current-user">
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
        <main id="main" tabIndex={-1} className="min-w-0 flex-1 px-4 py-6 focus:outline-none md:px-6">
          {props.children}
        </main>
      </div>
    </div>
  );
}
