/** A duration in milliseconds as people read it: 850 ms, 1.2 s, 3 min. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  return `${(ms / 60_000).toFixed(ms < 600_000 ? 1 : 0)} min`;
}

/** A ratio (0..1) as a percentage with at most one decimal. */
export function formatPercent(ratio: number): string {
  if (!Number.isFinite(ratio)) return '-';
  const percent = ratio * 100;
  return `${percent < 10 && percent > 0 ? percent.toFixed(1) : Math.round(percent)}%`;
}

/** Throttles by reason, largest first, as `concurrency 12 · rate 3`; `total` alone when no reasons are known. */
export function formatThrottles(total: number, byReason?: Readonly<Record<string, number>>): string {
  if (!byReason) return String(total);
  const parts = Object.entries(byReason)
    .map(([reason, count]) => [reason, Math.round(count)] as const)
    .filter(([, count]) => count > 0)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  return parts.length === 0 ? 'none (5 min)' : parts.map(([reason, count]) => `${reason} ${count}`).join(' · ');
}
