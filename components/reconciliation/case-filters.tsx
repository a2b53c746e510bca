import Form from "next/form";
import Link from "next/link";
import { buttonClasses } from "@/components/ui/button";
import { Field, Input, Select } from "@/components/ui/field";
import { AGE_FILTERS, CASE_TYPE_LABELS, CASE_TYPES, isFiltered, PSP_FILTERS, STATUS_FILTER_LABELS, type CaseFilters } from "./labels";

// The case list's filters: a GET form, so they live in the URL (?type=&status=&age=&min=&psp=&merchant=) and a
// filtered list is a link. Submitting drops the page cursor: a new filter starts at the first page.

export function CaseFiltersForm({ filters }: { filters: CaseFilters }) {
  return (
    <Form action="/ops/reconciliation" className="flex flex-wrap items-end gap-3" aria-label="Filter reconciliation cases">
      <Field label="Type" htmlFor="recon-type">
        <Select id="recon-type" name="type" defaultValue={filters.type ?? ""}>
          <option value="">All types</option>
          {CASE_TYPES.map((t) => (
            <option key={t} value={t}>
              {CASE_TYPE_LABELS[t]}
            </option>
          ))}
        </Select>
      </Field>
      <Field label="Status" htmlFor="recon-status">
        <Select id="recon-status" name="status" defaultValue={filters.status}>
          {Object.entries(STATUS_FILTER_LABELS).map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </Select>
      </Field>
      <Field label="Age" htmlFor="recon-age">
        <Select id="recon-age" name="age" defaultValue={filters.olderThanHours?.toString() ?? ""}>
          <option value="">Any age</option>
          {AGE_FILTERS.map((a) => (
            <option key={a.hours} value={a.hours}>
              {a.label}
            </option>
          ))}
        </Select>
      </Field>
      <Field label="Min at risk" htmlFor="recon-min" className="w-36">
        <Input id="recon-min" name="min" inputMode="numeric" pattern="[0-9]{1,16}" title="An amount in minor units, e.g. 500 for 5.00" defaultValue={filters.minAmount ?? ""} placeholder="minor units" />
      </Field>
      <Field label="PSP" htmlFor="recon-psp">
        <Select id="recon-psp" name="psp" defaultValue={filters.psp ?? ""}>
          <option value="">All PSPs</option>
          {PSP_FILTERS.map((p) => (
            <option key={p.psp} value={p.psp}>
              {p.label}
            </option>
          ))}
        </Select>
      </Field>
      <Field label="Merchant id" htmlFor="recon-merchant" className="w-48">
        <Input id="recon-merchant" name="merchant" defaultValue={filters.merchantId ?? ""} placeholder="mer_…" maxLength={68} />
      </Field>
      <button type="submit" className={buttonClasses({ variant: "primary" })}>
        Filter
      </button>
      {isFiltered(filters) ? (
        <Link href="/ops/reconciliation" className={buttonClasses({ variant: "ghost" })}>
          Clear
        </Link>
      ) : null}
    </Form>
  );
}
