import { ValidationError } from '@fairway/errors';
import { applyQuotaPatch, limitsOf, parseQuotaPatch, QUOTA_DEFAULTS, type QuotaField, type QuotaLimits, type QuotaPatch } from '@fairway/quota';

/** The limits the console's form edits; per-class caps stay with tenantctl and the admin API (shown read-only). */
export const FORM_FIELDS = ['weight', 'rate', 'burst', 'maxInFlight', 'rateBasis'] as const satisfies readonly QuotaField[];
export type FormField = (typeof FORM_FIELDS)[number];

/** A problem with one field of the form, as @fairway/quota's schema words it. */
export interface FieldProblem {
  path: string;
  message: string;
}

/** What the operator sent: a validated patch, or the problems to show beside the fields. */
export type FormResult = { patch: QuotaPatch } | { problems: FieldProblem[] };

/** How a limit reads in the form and on the confirmation: '' for unset. */
export function formValue(value: QuotaLimits[FormField]): string {
  return value === null ? '' : String(value);
}

/**
 * The patch a submitted form asks for, against the quota it was filled from: a field left as it was
 * is not part of it, a field emptied goes back to its default (`clear`), any other value is passed
 * as typed (numbers as numbers) to the one quota contract, @fairway/quota's parseQuotaPatch, whose
 * messages the form shows. Nothing changed is a problem too: there is nothing to confirm.
 */
export function patchFromForm(current: QuotaLimits, form: Readonly<Record<string, unknown>>): FormResult {
  const candidate: Record<string, unknown> = {};
  const clear: QuotaField[] = [];
  for (const field of FORM_FIELDS) {
    const raw = form[field];
    if (typeof raw !== 'string') continue;
    const typed = raw.trim();
    if (typed === formValue(current[field])) continue;
    if (typed === '') {
      if (current[field] !== QUOTA_DEFAULTS[field]) clear.push(field);
      continue;
    }
    const number = Number(typed);
    candidate[field] = field === 'rateBasis' || !Number.isFinite(number) ? typed : number;
  }
  if (Object.keys(candidate).length === 0 && clear.length === 0) return { problems: [{ path: '(form)', message: 'nothing changed: edit a limit first' }] };
  try {
    return { patch: parseQuotaPatch({ ...candidate, clear }) };
  } catch (err) {
    if (err instanceof ValidationError) return { problems: err.issues.map((i) => ({ path: i.path, message: i.message })) };
    throw err;
  }
}

/** One line of the confirmation: a limit, its value before and after, and whether it changes. */
export interface QuotaDiffLine {
  field: QuotaField;
  before: string;
  after: string;
  changed: boolean;
}

/** The confirmation's before -> after of every limit, as the quota will be once `patch` is applied. */
export function quotaDiff(current: QuotaLimits, patch: QuotaPatch): QuotaDiffLine[] {
  const before = limitsOf(current);
  const after = applyQuotaPatch(before, patch);
  const show = (v: unknown): string => (v === null ? 'unset' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  return (Object.keys(before) as QuotaField[]).map((field) => ({
    field,
    before: show(before[field]),
    after: show(after[field]),
    changed: show(before[field]) !== show(after[field]),
  }));
}
