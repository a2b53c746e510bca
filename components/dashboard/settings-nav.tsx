import Link from "next/link";
import { cn } from "@/components/ui/cn";

const TABS = [
  { href: "/dashboard/settings", label: "General" },
  { href: "/dashboard/settings/team", label: "Team" },
] as const;

/** Settings' own sections (the shell's nav has one Settings entry). */
export function SettingsNav({ current }: { current: (typeof TABS)[number]["href"] }) {
  return (
    <nav aria-label="Settings" className="flex gap-1 border-b border-slate-200">
      {TABS.map((tab) => (
        <Link
          key={tab.href}
          href={tab.href}
          aria-current={tab.href === current ? "page" : undefined}
          className={cn(
            "-mb-px border-b-2 px-3 py-2 text-sm font-medium",
            tab.href === current ? "border-brand-600 text-brand-700" : "border-transparent text-slate-700 hover:border-slate-300 hover:text-slate-900",
          )}
        >
          {tab.label}
        </Link>
      ))}
    </nav>
  );
}
