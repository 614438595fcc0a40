/**
 * The console's stylesheet, served as /console/assets/console.css (the Content-Security-Policy
 * allows styles from the console itself only, no inline ones). System fonts, one column on a
 * phone, wide tables scroll sideways inside their region, focus always visible, contrast AA.
 */
export const CONSOLE_CSS = `
:root { --fg: #1b1f24; --muted: #57606a; --bg: #fff; --line: #d0d7de; --accent: #0a58ca; --warn: #8a4b00; --bad: #b42318; --ok: #116329; --hi: #fff8c5; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.skip { position: absolute; left: -999px; top: 0; background: var(--bg); padding: .5rem; }
.skip:focus { left: .5rem; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
.top { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: center; justify-content: space-between; padding: .6rem 1rem; border-bottom: 1px solid var(--line); }
.top nav { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; }
.brand { font-weight: 600; text-decoration: none; color: var(--fg); }
main { padding: 1rem; max-width: 1400px; margin: 0 auto; }
main:focus { outline: none; }
h1 { font-size: 1.5rem; margin: .25rem 0 .75rem; }
h2 { font-size: 1.1rem; margin: 1.25rem 0 .5rem; }
.muted { color: var(--muted); font-weight: normal; }
.warn { color: var(--warn); }
.problem { color: var(--bad); }
.ok { color: var(--ok); }
.saved { background: #dafbe1; border: 1px solid #4ac26b; padding: .5rem .75rem; border-radius: 6px; }
.hint { color: var(--muted); margin: .25rem 0; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .9em; }
pre { background: #f6f8fa; padding: .5rem; overflow-x: auto; max-height: 20rem; }
button, .button { font: inherit; padding: .4rem .9rem; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; text-decoration: none; display: inline-block; }
button.link { background: none; border: none; color: var(--accent); padding: 0; text-decoration: underline; }
.button.secondary { background: var(--bg); color: var(--accent); margin-left: .5rem; }
input, select, textarea { font: inherit; padding: .35rem .5rem; border: 1px solid var(--line); border-radius: 6px; max-width: 100%; }
textarea { width: 100%; font-family: ui-monospace, monospace; }
form.inline { display: inline; }
.stack { display: grid; gap: .5rem; max-width: 40rem; }
.filter { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin-bottom: .5rem; }
.scroll { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; }
table { border-collapse: collapse; width: 100%; }
th, td { padding: .35rem .6rem; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
thead th { background: #f6f8fa; position: sticky; top: 0; }
thead th a { color: var(--fg); text-decoration: none; }
thead th a:hover, thead th a:focus-visible { text-decoration: underline; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.at-cap { color: var(--warn); font-weight: 600; }
tr.highlight td { background: var(--hi); }
tr.changed th, tr.changed td { background: var(--hi); }
.pager { display: flex; gap: 1rem; margin: .5rem 0; }
.status { margin: .25rem 0; }
.crumbs { margin-bottom: .25rem; color: var(--muted); }
.badge { font-size: .8rem; padding: .1rem .5rem; border-radius: 999px; border: 1px solid var(--line); vertical-align: middle; }
.badge-active { color: var(--ok); border-color: #4ac26b; }
.badge-suspended { color: var(--warn); }
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(9rem, 1fr)); gap: .5rem; margin: 0; }
.figures div { border: 1px solid var(--line); border-radius: 6px; padding: .4rem .6rem; }
.figures dt { color: var(--muted); font-size: .85rem; }
.figures dd { margin: 0; font-size: 1.2rem; font-variant-numeric: tabular-nums; }
.state { font-family: ui-monospace, monospace; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(18rem, 1fr)); gap: 1rem; }
.chart { margin: 0; }
.chart svg { width: 100%; height: 9rem; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
.chart .axis { stroke: var(--line); }
.chart .tick { font-size: 11px; fill: var(--muted); }
.chart .line { fill: none; stroke-width: 2; vector-effect: non-scaling-stroke; }
.chart .dot { stroke-width: 4; fill: none; }
.line-0 { stroke: #0a58ca; } .line-1 { stroke: #bc4c00; } .line-2 { stroke: #116329; }
.legend { list-style: none; padding: 0; margin: .25rem 0 0; display: flex; flex-wrap: wrap; gap: .25rem 1rem; font-size: .85rem; }
.legend li::before { content: ""; display: inline-block; width: .8rem; height: .2rem; margin-right: .3rem; vertical-align: middle; background: currentColor; }
.key-0::before { color: #0a58ca; } .key-1::before { color: #bc4c00; } .key-2::before { color: #116329; }
.columns { display: grid; grid-template-columns: minmax(16rem, 24rem) 1fr; gap: 0 2rem; align-items: start; }
/* A grid item is as wide as its content by default: a wide table would widen the page past a phone's screen instead of scrolling in its region. */
.columns > *, .charts > *, .figures > * { min-width: 0; }
.quota-form .field { display: grid; gap: .15rem; margin-bottom: .6rem; }
.quota-form small { color: var(--muted); }
.quota-form small.problem { color: var(--bad); }
[aria-invalid="true"] { border-color: var(--bad); }
.diff { max-width: 36rem; margin-bottom: 1rem; }
.diff caption { text-align: left; color: var(--muted); padding-bottom: .25rem; }
@media (max-width: 720px) {
  main { padding: .75rem; }
  .columns { grid-template-columns: 1fr; }
  th, td { padding: .3rem .45rem; }
  h1 { font-size: 1.3rem; }
}
`;
