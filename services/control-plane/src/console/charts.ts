import { html, type Html } from './html';

/** One line of a chart: its points [unix seconds, value] and its legend. */
export interface ChartLine {
  label: string;
  points: ReadonlyArray<readonly [number, number]>;
}

/** What a chart shows: a title, the unit of its values, the window and its lines. */
export interface ChartSpec {
  title: string;
  unit: string;
  start: number;
  end: number;
  lines: readonly ChartLine[];
}

const WIDTH = 600;
const HEIGHT = 160;
const PAD = { left: 48, right: 8, top: 8, bottom: 20 };

/** A value as the axis says it: at most 3 significant digits. */
export function axisNumber(value: number): string {
  if (value === 0) return '0';
  if (Math.abs(value) >= 1000) return `${(value / 1000).toPrecision(3).replace(/\.?0+$/, '')}k`;
  return value
    .toPrecision(3)
    .replace(/(\.\d*?)0+$/, '$1')
    .replace(/\.$/, '');
}

/**
 * The polylines' `points` attributes of a line, one per run of finite values: a gap (NaN, no
 * sample) breaks the line instead of drawing a slope through it.
 */
export function polylines(points: ChartLine['points'], spec: Pick<ChartSpec, 'start' | 'end'>, max: number): string[] {
  const span = Math.max(1, spec.end - spec.start);
  const x = (t: number) => PAD.left + ((t - spec.start) / span) * (WIDTH - PAD.left - PAD.right);
  const y = (v: number) => HEIGHT - PAD.bottom - (max > 0 ? v / max : 0) * (HEIGHT - PAD.top - PAD.bottom);
  const runs: string[] = [];
  let run: string[] = [];
  for (const [t, v] of points) {
    if (!Number.isFinite(v)) {
      if (run.length > 0) runs.push(run.join(' '));
      run = [];
      continue;
    }
    run.push(`${x(t).toFixed(1)},${y(v).toFixed(1)}`);
  }
  if (run.length > 0) runs.push(run.join(' '));
  return runs;
}

/**
 * A line chart as inline SVG, drawn on the server: no chart library, no script, nothing the
 * Content-Security-Policy has to allow (colours come from the stylesheet by class). Screen readers
 * get the title and each line's latest value.
 */
export function lineChart(spec: ChartSpec): Html {
  const finite = spec.lines.flatMap((l) => l.points.map(([, v]) => v)).filter(Number.isFinite);
  const max = finite.length > 0 ? Math.max(...finite) * 1.1 || 1 : 1;
  const latest = spec.lines.map((l) => {
    const last = [...l.points].reverse().find(([, v]) => Number.isFinite(v));
    return `${l.label} ${last ? `${axisNumber(last[1])} ${spec.unit}` : 'no data'}`;
  });
  const minutes = Math.round((spec.end - spec.start) / 60);
  return html`<figure class="chart">
    <figcaption>${spec.title} <span class="muted">(${spec.unit}, last ${minutes} min)</span></figcaption>
    <svg viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${`${spec.title}: ${latest.join(', ')}`}" preserveAspectRatio="none">
      <line class="axis" x1="${PAD.left}" y1="${HEIGHT - PAD.bottom}" x2="${WIDTH - PAD.right}" y2="${HEIGHT - PAD.bottom}" />
      <line class="axis" x1="${PAD.left}" y1="${PAD.top}" x2="${PAD.left}" y2="${HEIGHT - PAD.bottom}" />
      <text class="tick" x="${PAD.left - 4}" y="${PAD.top + 10}" text-anchor="end">${axisNumber(max)}</text>
      <text class="tick" x="${PAD.left - 4}" y="${HEIGHT - PAD.bottom}" text-anchor="end">0</text>
      <text class="tick" x="${PAD.left}" y="${HEIGHT - 4}">-${minutes}m</text>
      <text class="tick" x="${WIDTH - PAD.right}" y="${HEIGHT - 4}" text-anchor="end">now</text>
      ${spec.lines.map((line, i) =>
        polylines(line.points, spec, max).map((points) => {
          // A lone sample (a gap on both sides, or a stack minutes old) is a dot: a polyline of one point draws nothing.
          const [cx, cy] = points.includes(' ') ? [] : points.split(',');
          return cx === undefined
            ? html`<polyline class="${`line line-${i}`}" points="${points}" />`
            : html`<circle class="${`dot line-${i}`}" cx="${cx}" cy="${cy}" r="3" />`;
        }),
      )}
    </svg>
    ${finite.length === 0 ? html`<p class="muted">No samples in this window yet.</p>` : ''}
    <ul class="legend">
      ${latest.map((text, i) => html`<li class="${`key-${i}`}">${text}</li>`)}
    </ul>
  </figure>`;
}
