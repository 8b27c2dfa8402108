/**
 * The analytics dashboard (GET /): plain HTML, vanilla JS and inline SVG, no
 * build step and no library. It reads only the public endpoints of
 * analytics-routes.ts: 48 h counts per type, unique users per day, activity by
 * weekday and hour, a funnel builder, top flows and a live tail.
 * Every drawn bar carries data-* attributes with the number it shows, so a
 * browser test can check the numbers, not the pixels.
 */
import { escapeAttribute } from './html-escape.js'

const STYLE = `
:root { color-scheme: light; --bg: #f4f6f9; --panel: #fff; --line: #e3e7ee; --text: #1b2230; --muted: #687287; --accent: #3b6cf6; --good: #1f9d6b; --bad: #d04545; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; background: var(--bg); color: var(--text); }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 10px 16px; padding: 12px 20px; background: var(--panel); border-bottom: 1px solid var(--line); position: sticky; top: 0; z-index: 2; }
header h1 { font-size: 16px; margin: 0 12px 0 0; font-weight: 650; }
header h1 span { color: var(--muted); font-weight: 400; }
label.field { display: flex; align-items: center; gap: 6px; font-size: 12px; color: var(--muted); }
input, select, button { font: inherit; padding: 4px 8px; border-radius: 6px; border: 1px solid var(--line); background: var(--panel); color: var(--text); }
button { cursor: pointer; }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
#custom-range[hidden] { display: none; }
#status { margin-left: auto; font-size: 12px; color: var(--muted); }
main { display: grid; grid-template-columns: repeat(12, 1fr); gap: 16px; padding: 16px 20px 40px; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; min-width: 0; }
.card h2 { font-size: 13px; margin: 0 0 10px; font-weight: 650; display: flex; align-items: center; gap: 10px; }
.card h2 small { font-weight: 400; color: var(--muted); }
.card h2 .right { margin-left: auto; }
.w12 { grid-column: span 12; } .w8 { grid-column: span 8; } .w6 { grid-column: span 6; } .w4 { grid-column: span 4; }
@media (max-width: 1000px) { .w8, .w6, .w4 { grid-column: span 12; } }
.kpis { display: flex; gap: 28px; }
.kpi b { display: block; font-size: 24px; font-variant-numeric: tabular-nums; }
.kpi span { color: var(--muted); font-size: 12px; }
svg { display: block; width: 100%; overflow: visible; }
svg text { font-size: 10px; fill: var(--muted); }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; margin-top: 8px; font-size: 12px; }
.legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 5px; vertical-align: -1px; }
.empty { color: var(--muted); padding: 20px 0; text-align: center; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: 5px 6px; border-bottom: 1px solid var(--line); font-variant-numeric: tabular-nums; }
th { font-size: 11px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); font-weight: 600; }
td.num { text-align: right; }
.bar { height: 8px; border-radius: 4px; background: color-mix(in srgb, var(--accent) 70%, transparent); }
.steps { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; margin-bottom: 10px; }
.steps .step { display: flex; align-items: center; gap: 2px; }
.steps .arrow { color: var(--muted); }
.funnel-row { display: grid; grid-template-columns: 150px 1fr 170px; gap: 10px; align-items: center; margin: 6px 0; }
.funnel-row .track { background: var(--bg); border-radius: 4px; height: 22px; position: relative; }
.funnel-row .fill { background: var(--accent); height: 100%; border-radius: 4px; }
.funnel-row .name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; font-weight: 600; }
.funnel-row .stat { font-size: 12px; color: var(--muted); }
.funnel-row .stat b { color: var(--text); }
.drop { color: var(--bad); }
#tail { max-height: 320px; overflow: auto; }
#tail td { font-size: 12px; }
#tail td.params { font-family: ui-monospace, Menlo, monospace; color: var(--muted); overflow-wrap: anywhere; }
#tail tr.fresh { animation: fresh 2s ease-out; }
@keyframes fresh { from { background: #fff5cc; } to { background: transparent; } }
.type { display: inline-block; padding: 0 7px; border-radius: 9px; font-size: 12px; color: #fff; white-space: nowrap; }
`

const SCRIPT = `
'use strict'
const BASE = document.body.dataset.base
const POLL_MS = Number(document.body.dataset.pollMs)
const COLORS = ['#3b6cf6', '#1f9d6b', '#e28b12', '#d04545', '#8e5bd8', '#1aa3b8', '#c2569a', '#6d8a1c', '#7b6b57', '#4a5670', '#e0b400', '#2f8f8f']
const $ = (id) => document.getElementById(id)
const state = { types: [], colors: new Map(), tailSince: null, tailKeys: new Set(), tailTimer: null }
const SVGNS = 'http://www.w3.org/2000/svg'

function el(tag, props, ...children) {
  const node = document.createElement(tag)
  for (const [k, v] of Object.entries(props || {})) {
    if (k === 'dataset') Object.assign(node.dataset, v)
    else if (k === 'style') node.setAttribute('style', v)
    else node[k] = v
  }
  for (const child of children) node.append(child)
  return node
}
function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVGNS, tag)
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v))
  for (const child of children) node.append(child)
  return node
}
function colorOf(type) {
  if (!state.colors.has(type)) state.colors.set(type, COLORS[state.colors.size % COLORS.length])
  return state.colors.get(type)
}
const fmt = (n) => Number(n).toLocaleString('en-US')
const pct = (x) => (x * 100).toFixed(1) + '%'

function bucket() { return $('bucket').value.trim() || 'default' }
function selectedType() { return $('type').value }
/** startDate/endDate (Unix s) of the time-range picker; undefined = unbounded. */
function timeRange() {
  const choice = $('range').value
  const nowS = Math.floor(Date.now() / 1000)
  if (choice === 'all') return {}
  if (choice === 'custom') {
    const start = $('from').value ? Math.floor(new Date($('from').value + 'Z').getTime() / 1000) : undefined
    const end = $('to').value ? Math.floor(new Date($('to').value + 'Z').getTime() / 1000) : undefined
    return { startDate: start, endDate: end }
  }
  return { startDate: nowS - Number(choice), endDate: nowS }
}
function filters(withType = true) {
  const f = { bucket: bucket(), ...timeRange() }
  if (withType && selectedType()) f.eventType = selectedType()
  return f
}
async function api(path, body) {
  const response = await fetch(BASE + path, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  const answer = await response.json()
  if (!response.ok) throw new Error(answer.reason || response.statusText)
  return answer
}
function setStatus(text) { $('status').textContent = text }

async function loadTypes() {
  const { types } = await api('/api/analysis/types', filters(false))
  state.types = types.map((t) => t.event_type)
  for (const t of [...state.types].sort()) colorOf(t)
  const current = selectedType()
  $('type').replaceChildren(el('option', { value: '', textContent: 'All types' }), ...types.map((t) => el('option', { value: t.event_type, textContent: t.event_type + ' (' + fmt(t.total) + ')' })))
  $('type').value = state.types.includes(current) ? current : ''
  for (const select of document.querySelectorAll('.step select')) fillStepSelect(select, select.value)
}

async function loadStats() {
  const granularity = $('granularity').value
  const type = selectedType()
  const stats = await api('/api/stats' + (type ? '/' + encodeURIComponent(type) : '') + '?bucket=' + encodeURIComponent(bucket()) + '&granularity=' + granularity)
  $('stats-total').textContent = fmt(stats.total)
  const slots = Math.round((stats.to - stats.from) / stats.bucketMs)
  const byType = new Map()
  for (const row of stats.byType) {
    if (!byType.has(row.event_type)) byType.set(row.event_type, new Map())
    byType.get(row.event_type).set(row.ts, row.total)
  }
  const totals = new Map(stats.buckets.map((b) => [b.ts, b.total]))
  const max = Math.max(1, ...totals.values())
  const W = 1000, H = 200, left = 40, bottom = 22, plotW = W - left, plotH = H - bottom - 6
  const barW = plotW / slots
  const chart = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, id: 'stats-svg', 'data-total': stats.total, 'data-slots': slots })
  for (const frac of [0, 0.5, 1]) {
    const y = 6 + plotH * (1 - frac)
    chart.append(svg('line', { x1: left, x2: W, y1: y, y2: y, stroke: '#e3e7ee' }), svg('text', { x: left - 6, y: y + 3, 'text-anchor': 'end' }, fmt(Math.round(max * frac))))
  }
  const types = [...byType.keys()].sort()
  for (let i = 0; i < slots; i++) {
    const ts = stats.from + i * stats.bucketMs
    let y = 6 + plotH
    for (const type of types) {
      const count = byType.get(type).get(ts) || 0
      if (count === 0) continue
      const h = (count / max) * plotH
      y -= h
      const rect = svg('rect', { class: 'stat-bar', x: left + i * barW + barW * 0.1, y, width: Math.max(barW * 0.8, 0.5), height: h, fill: colorOf(type), 'data-type': type, 'data-ts': ts, 'data-count': count })
      rect.append(svg('title', {}, type + ' · ' + new Date(ts).toISOString().slice(0, 16).replace('T', ' ') + ' UTC · ' + fmt(count)))
      chart.append(rect)
    }
    const labelEvery = Math.ceil(slots / 8)
    if (i % labelEvery === 0) {
      const d = new Date(ts)
      const label = granularity === 'hour' ? d.toISOString().slice(5, 13).replace('T', ' ') + 'h' : d.toISOString().slice(11, granularity === 'second' ? 19 : 16)
      chart.append(svg('text', { x: left + i * barW, y: H - 6 }, label))
    }
  }
  $('stats-chart').replaceChildren(chart)
  const legend = types.map((type) => {
    let sum = 0
    for (const v of byType.get(type).values()) sum += v
    return el('span', { className: 'legend-item', dataset: { type, total: String(sum) } }, el('i', { style: 'background:' + colorOf(type) }), type + ' ' + fmt(sum))
  })
  $('stats-legend').replaceChildren(...legend)
  if (types.length === 0) $('stats-chart').replaceChildren(el('div', { className: 'empty', textContent: 'No events in the last 48 hours.' }))
}

async function loadUniques() {
  const answer = await api('/api/analysis/uniques', filters())
  $('uniques-total').textContent = fmt(answer.total)
  const days = answer.days
  if (days.length === 0) return $('uniques-chart').replaceChildren(el('div', { className: 'empty', textContent: 'No users in this range.' }))
  const W = 600, H = 180, bottom = 22, plotH = H - bottom - 16
  const max = Math.max(1, ...days.map((d) => d.users))
  const barW = W / days.length
  const chart = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, id: 'uniques-svg' })
  days.forEach((d, i) => {
    const h = (d.users / max) * plotH
    const x = i * barW + barW * 0.15
    chart.append(svg('rect', { class: 'unique-bar', x, y: 16 + plotH - h, width: barW * 0.7, height: h, fill: '#1f9d6b', rx: 2, 'data-date': d.date, 'data-users': d.users }, svg('title', {}, d.date + ': ' + fmt(d.users) + ' users')))
    if (days.length <= 31) chart.append(svg('text', { x: x + barW * 0.35, y: 12 + plotH - h, 'text-anchor': 'middle' }, fmt(d.users)))
    if (i % Math.ceil(days.length / 10) === 0) chart.append(svg('text', { x: x + barW * 0.35, y: H - 6, 'text-anchor': 'middle' }, d.date.slice(5)))
  })
  $('uniques-chart').replaceChildren(chart)
}

async function loadActivity() {
  const answer = await api('/api/analysis/activity', filters())
  const max = Math.max(1, ...answer.byWeekdayHour.flat())
  const cell = 22, left = 34, top = 14
  const chart = svg('svg', { viewBox: '0 0 ' + (left + 24 * cell) + ' ' + (top + 7 * cell + 4), id: 'activity-svg' })
  for (let h = 0; h < 24; h += 3) chart.append(svg('text', { x: left + h * cell + cell / 2, y: 10, 'text-anchor': 'middle' }, String(h).padStart(2, '0')))
  answer.byWeekdayHour.forEach((row, w) => {
    chart.append(svg('text', { x: 0, y: top + w * cell + cell / 2 + 3 }, answer.weekdays[w]))
    row.forEach((count, h) => {
      const alpha = count === 0 ? 0.04 : 0.15 + 0.85 * (count / max)
      chart.append(svg('rect', { class: 'activity-cell', x: left + h * cell + 1, y: top + w * cell + 1, width: cell - 2, height: cell - 2, rx: 3, fill: 'rgba(59,108,246,' + alpha.toFixed(3) + ')', 'data-weekday': w, 'data-hour': h, 'data-count': count }, svg('title', {}, answer.weekdays[w] + ' ' + h + ':00 UTC: ' + fmt(count))))
    })
  })
  $('activity-chart').replaceChildren(chart)
}

async function loadFlows() {
  const { flows } = await api('/api/analysis/flows', { ...filters(), limit: 10 })
  if (flows.length === 0) return $('flows').replaceChildren(el('div', { className: 'empty', textContent: 'No flows in this range.' }))
  const max = flows[0].total
  const rows = flows.map((f) => el('tr', { className: 'flow-row', dataset: { from: f.from, to: f.to, total: String(f.total) } },
    el('td', {}, el('span', { className: 'type', style: 'background:' + colorOf(f.from), textContent: f.from })),
    el('td', {}, el('span', { className: 'type', style: 'background:' + colorOf(f.to), textContent: f.to })),
    el('td', { className: 'num', textContent: fmt(f.total) }),
    el('td', { style: 'width:35%' }, el('div', { className: 'bar', style: 'width:' + (100 * f.total / max).toFixed(1) + '%' }))))
  $('flows').replaceChildren(el('table', {}, el('thead', {}, el('tr', {}, el('th', { textContent: 'From' }), el('th', { textContent: 'Next' }), el('th', { className: 'num', textContent: 'Times' }), el('th', {}))), el('tbody', {}, ...rows)))
}

function fillStepSelect(select, value) {
  const options = state.types.length ? state.types : (value ? [value] : [])
  select.replaceChildren(...options.map((t) => el('option', { value: t, textContent: t })))
  if (value && !options.includes(value)) select.append(el('option', { value, textContent: value }))
  if (value) select.value = value
}
function addStep(value) {
  const select = el('select', { className: 'step-type' })
  fillStepSelect(select, value || state.types[$('steps').querySelectorAll('.step').length] || state.types[0])
  const remove = el('button', { type: 'button', className: 'remove-step', textContent: '×', title: 'Remove this step' })
  const step = el('span', { className: 'step' }, select, remove)
  remove.addEventListener('click', () => { step.remove(); drawArrows() })
  $('steps').append(step)
  drawArrows()
}
function drawArrows() {
  for (const arrow of $('steps').querySelectorAll('.arrow')) arrow.remove()
  const steps = [...$('steps').querySelectorAll('.step')]
  steps.slice(1).forEach((step) => step.before(el('span', { className: 'arrow', textContent: '→' })))
}
async function runFunnel() {
  const steps = [...document.querySelectorAll('.step select')].map((s) => s.value).filter(Boolean)
  const window = Number($('window').value) * Number($('window-unit').value)
  try {
    const result = await api('/api/analysis/funnel', { ...filters(false), steps, window })
    const first = result.steps[0].users
    $('funnel').replaceChildren(...result.steps.map((s, i) => el('div', { className: 'funnel-row', dataset: { step: String(i), type: s.type, users: String(s.users), conversion: s.conversion.toFixed(4), dropOff: String(s.dropOff) } },
      el('span', { className: 'name', textContent: (i + 1) + '. ' + s.type }),
      el('div', { className: 'track' }, el('div', { className: 'fill', style: 'width:' + (first ? 100 * s.users / first : 0).toFixed(1) + '%;background:' + colorOf(s.type) })),
      el('span', { className: 'stat' }, el('b', { textContent: fmt(s.users) }), ' users · ' + pct(s.conversion), i > 0 ? el('span', { className: 'drop', textContent: ' · −' + fmt(s.dropOff) }) : ''))))
  } catch (err) {
    $('funnel').replaceChildren(el('div', { className: 'empty error', textContent: err.message }))
  }
}

function tailRow(event, fresh) {
  return el('tr', { className: 'tail-row' + (fresh ? ' fresh' : ''), dataset: { key: JSON.stringify(event.id), type: String(event.event_type) } },
    el('td', { textContent: new Date(event.ts * 1000).toISOString().replace('T', ' ').slice(0, 19) }),
    el('td', {}, el('span', { className: 'type', style: 'background:' + colorOf(String(event.event_type)), textContent: String(event.event_type) })),
    el('td', { textContent: event.userId === null ? '—' : event.userId }),
    el('td', { className: 'params', textContent: JSON.stringify(event.params) }))
}
async function pollTail(first) {
  const f = { bucket: bucket(), limit: 200 }
  if (selectedType()) f.eventType = selectedType()
  const params = new URLSearchParams(f)
  // The first poll asks for the newest events, the next ones for what came since.
  if (state.tailSince !== null) params.set('since', String(state.tailSince))
  try {
    const answer = await fetch(BASE + '/api/events/tail?' + params).then((r) => r.json())
    const fresh = answer.events.filter((e) => !state.tailKeys.has(JSON.stringify(e.id)))
    for (const e of fresh) state.tailKeys.add(JSON.stringify(e.id))
    state.tailSince = answer.next
    if (fresh.length > 0) {
      const body = $('tail-rows')
      for (const e of fresh) body.prepend(tailRow(e, !first))
      if (first) $('tail-count').dataset.initial = String(fresh.length)
      while (body.children.length > 100) body.lastElementChild.remove()
      $('tail-count').textContent = fmt(state.tailKeys.size) + ' seen'
    }
    setStatus('live · updated ' + new Date().toLocaleTimeString())
  } catch (err) {
    setStatus('live tail: ' + err.message)
  }
}
function restartTail() {
  clearTimeout(state.tailTimer)
  state.tailSince = null
  state.tailKeys = new Set()
  $('tail-rows').replaceChildren()
  const loop = async (first) => { await pollTail(first); state.tailTimer = setTimeout(() => loop(false), POLL_MS) }
  loop(true)
}

async function refresh() {
  setStatus('loading…')
  try {
    await loadTypes()
    await Promise.all([loadStats(), loadUniques(), loadActivity(), loadFlows()])
    if (document.querySelectorAll('.step').length === 0 && state.types.length > 0) { addStep(state.types[0]); addStep(state.types[1] || state.types[0]) }
    setStatus('updated ' + new Date().toLocaleTimeString())
    document.body.dataset.loaded = String(Number(document.body.dataset.loaded || 0) + 1)
  } catch (err) {
    setStatus('error: ' + err.message)
  }
}

$('range').addEventListener('change', () => { $('custom-range').hidden = $('range').value !== 'custom'; refresh() })
for (const id of ['from', 'to', 'granularity']) $(id).addEventListener('change', refresh)
$('type').addEventListener('change', () => { refresh(); restartTail() })
$('bucket').addEventListener('change', () => { refresh(); restartTail() })
$('add-step').addEventListener('click', () => addStep())
$('run-funnel').addEventListener('click', runFunnel)
const params = new URLSearchParams(location.search)
if (params.get('bucket')) $('bucket').value = params.get('bucket')
if (params.get('range')) { $('range').value = params.get('range'); $('custom-range').hidden = $('range').value !== 'custom' }
refresh()
restartTail()
`

/** How often the live tail polls, ms. */
export const DASHBOARD_TAIL_POLL_MS = 1000

/** The page, for routes mounted at `base` ('' at the root, else a prefix like '/analytics'). */
export function renderAnalyticsDashboard(base: string, pollMs = DASHBOARD_TAIL_POLL_MS): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Analytics · logging-system</title>
<style>${STYLE}</style>
</head>
<body data-base="${escapeAttribute(base)}" data-poll-ms="${pollMs}">
<header>
<h1>logging-system <span>analytics</span></h1>
<label class="field">Bucket <input id="bucket" value="default" size="12"></label>
<label class="field">Range <select id="range">
<option value="86400">Last 24 hours</option><option value="604800" selected>Last 7 days</option><option value="2592000">Last 30 days</option><option value="all">All time</option><option value="custom">Custom…</option>
</select></label>
<span id="custom-range" hidden><label class="field">From <input id="from" type="datetime-local"></label> <label class="field">To <input id="to" type="datetime-local"></label> <small>(UTC)</small></span>
<label class="field">Type <select id="type"><option value="">All types</option></select></label>
<div id="status">loading…</div>
</header>
<main>
<section class="card w12">
<h2>Events, last 48 hours <small>per type, UTC</small><span class="right"><label class="field">Granularity <select id="granularity"><option value="hour">hour</option><option value="minute">minute</option></select></label></span></h2>
<div class="kpis"><div class="kpi"><b id="stats-total">–</b><span>events in 48 h</span></div><div class="kpi"><b id="uniques-total">–</b><span>unique users in range</span></div></div>
<div id="stats-chart"></div>
<div id="stats-legend" class="legend"></div>
</section>
<section class="card w6"><h2>Unique users per day <small>UTC days in range</small></h2><div id="uniques-chart"></div></section>
<section class="card w6"><h2>Activity <small>weekday × hour of day, UTC</small></h2><div id="activity-chart"></div></section>
<section class="card w6">
<h2>Funnel <small>ordered steps within a window</small></h2>
<div class="steps" id="steps"></div>
<div class="steps"><button type="button" id="add-step">+ step</button>
<label class="field">Window <input id="window" type="number" min="1" value="1" style="width:5em"></label>
<select id="window-unit"><option value="60">minutes</option><option value="3600">hours</option><option value="86400" selected>days</option></select>
<button type="button" class="primary" id="run-funnel">Run funnel</button></div>
<div id="funnel"><div class="empty">Pick steps and run the funnel.</div></div>
</section>
<section class="card w6"><h2>Top flows <small>event → next event of the same user</small></h2><div id="flows"></div></section>
<section class="card w12"><h2>Live tail <small id="tail-count"></small></h2>
<div id="tail"><table><thead><tr><th>Time (UTC)</th><th>Type</th><th>User</th><th>Params</th></tr></thead><tbody id="tail-rows"></tbody></table></div>
</section>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`
}
