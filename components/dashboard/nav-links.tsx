"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import { useEffect, useRef } from "react";
import { cn } from "@/components/ui/cn";
import type { ShellNavItem } from "./shell";

/** Whether `href` is the page shown or one of its sub-pages ("/dashboard" itself only matches exactly). */
function isCurrent(pathname: string, href: string, all: ShellNavItem[]): boolean {
  if (pathname === href) return true;
  if (!pathname.startsWith(`${href}/`)) return false;
  // The longest matching item wins: /dashboard/payments/x is Payments, not Overview.
  return !all.some((other) => other.href !== href && other.href.length > href.length && (pathname === other.href || pathname.startsWith(`${other.href}/`)));
}

export function NavLinks({ nav }: { nav: ShellNavItem[] }) {
  const pathname = usePathname() ?? "";
  const navRef = useRef<HTMLElement>(null);
  // On a phone the nav scrolls sideways: keep the current page's link in view. The nav's own scrollLeft is set, not
  // the link's scrollIntoView(), which in Chromium also moves where the next Tab starts (past the skip link).
  useEffect(() => {
    const nav = navRef.current;
    const current = nav?.querySelector<HTMLElement>('[aria-current="page"]');
    if (!nav || !current || nav.scrollWidth <= nav.clientWidth) return;
    const n = nav.getBoundingClientRect();
    const c = current.getBoundingClientRect();
    if (c.left < n.left || c.right > n.right) nav.scrollLeft += c.left - n.left - 12;
  }, [pathname]);
  return (
    <nav ref={navRef} aria-label="Main" className="flex gap-1 overflow-x-auto px-3 pb-3 md:flex-col md:overflow-visible">
      {nav.map((item) => {
        const current = isCurrent(pathname, item.href, nav);
        return (
          <Link
            key={item.href}
            href={item.href}
            aria-current={current ? "page" : undefined}
            className={cn(
              "relative flex shrink-0 items-center gap-2 rounded-md px-3 py-2 text-sm font-medium whitespace-nowrap text-slate-700 hover:bg-slate-100",
              current && "bg-brand-50 text-brand-700 ring-1 ring-brand-600/20 ring-inset",
            )}
          >
            {item.label}
            {/* relative on the link: the badge's sr-only text (absolutely positioned) stays inside the scrolling nav on a phone */}
            {item.badge ? (
              <span className="rounded-full bg-red-700 px-1.5 text-xs leading-5 font-semibold text-white tabular-nums" data-testid="nav-badge">
                {item.badge}
                <span className="sr-only"> open</span>
              </span>
            ) : null}
          </Link>
        );
      })}
    </nav>
  );
}
