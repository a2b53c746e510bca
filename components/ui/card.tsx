import type { ReactNode } from "react";
import { cn } from "./cn";

/** A titled panel. `title` renders as an h2 (pages have their h1 in the shell header). */
export function Card({ title, description, actions, children, className, headingLevel = 2, ...rest }: { title?: ReactNode; description?: ReactNode; actions?: ReactNode; children?: ReactNode; className?: string; headingLevel?: 2 | 3 } & Record<`data-${string}`, string | undefined>) {
  const Heading = headingLevel === 2 ? "h2" : "h3";
  return (
    <section className={cn("rounded-lg border border-slate-200 bg-white", className)} {...rest}>
      {title || actions ? (
        <div className="flex flex-wrap items-start justify-between gap-3 border-b border-slate-100 px-4 py-3">
          <div className="min-w-0">
            {title ? <Heading className="text-base font-semibold text-slate-900">{title}</Heading> : null}
            {description ? <p className="mt-0.5 text-sm text-slate-600">{description}</p> : null}
          </div>
          {actions ? <div className="flex flex-wrap items-center gap-2">{actions}</div> : null}
        </div>
      ) : null}
      <div className="p-4">{children}</div>
    </section>
  );
}
