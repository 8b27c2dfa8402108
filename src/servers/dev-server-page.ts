/**
 * The DevServer's live page: plain HTML and a little vanilla JS, no build
 * step. It lists buckets, shows the selected bucket's events newest first,
 * filters them by type, and follows `events/stream` (server-sent events).
 */
import { escapeAttribute } from './html-escape.js'

const STYLE = `
:root { color-scheme: light dark; --bg: #f6f7f9; --panel: #fff; --line: #e2e5ea; --text: #1d2330; --muted: #6b7385; --accent: #3b6cf6; --new: #fff7d6; }
@media (prefers-color-scheme: dark) { :root { --bg: #14171c; --panel: #1c2027; --line: #2c323c; --text: #e4e7ec; --muted: #8d95a5; --accent: #7aa2ff; --new: #3a3320; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; background: var(--bg); color: var(--text); }
header { display: flex; align-items: center; gap: 12px; padding: 12px 20px; background: var(--panel); border-bottom: 1px solid var(--line); }
header h1 { font-size: 16px; margin: 0; font-weight: 600; }
header h1 span { color: var(--muted); font-weight: 400; }
#status { margin-left: auto; font-size: 12px; color: var(--muted); display: flex; align-items: center; gap: 6px; }
#status::before { content: ""; width: 8px; height: 8px; border-radius: 50%; background: #c0392b; }
#status.live::before { background: #27ae60; }
main { display: grid; grid-template-columns: 240px 1fr; min-height: calc(100vh - 50px); }
nav { border-right: 1px solid var(--line); background: var(--panel); padding: 12px 0; }
nav h2, .toolbar label { font-size: 11px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); margin: 0 16px 8px; font-weight: 600; }
nav ul { list-style: none; margin: 0; padding: 0; }
nav li button { all: unset; box-sizing: border-box; display: flex; width: 100%; padding: 6px 16px; cursor: pointer; gap: 8px; }
nav li button:hover { background: var(--bg); }
nav li button[aria-current="true"] { background: var(--bg); box-shadow: inset 3px 0 var(--accent); font-weight: 600; }
nav .name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
nav .count { margin-left: auto; color: var(--muted); font-variant-numeric: tabular-nums; }
nav .empty { padding: 6px 16px; color: var(--muted); }
section { padding: 16px 20px; min-width: 0; }
.toolbar { display: flex; align-items: center; gap: 10px; margin-bottom: 12px; }
.toolbar label { margin: 0; }
.toolbar select { font: inherit; padding: 4px 8px; border-radius: 6px; border: 1px solid var(--line); background: var(--panel); color: var(--text); }
#summary { color: var(--muted); margin-left: auto; }
table { width: 100%; border-collapse: collapse; background: var(--panel); border: 1px solid var(--line); border-radius: 8px; overflow: hidden; }
th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 11px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); font-weight: 600; }
td.time { white-space: nowrap; font-variant-numeric: tabular-nums; }
td.key, td.value { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; overflow-wrap: anywhere; }
td.key { min-width: 9em; }
td.value { color: var(--muted); }
.type { display: inline-block; padding: 1px 8px; border-radius: 10px; background: color-mix(in srgb, var(--accent) 15%, transparent); color: var(--accent); font-size: 12px; white-space: nowrap; }
tr.fresh { animation: fresh 2s ease-out; }
@keyframes fresh { from { background: var(--new); } to { background: transparent; } }
#placeholder { padding: 40px; text-align: center; color: var(--muted); }
code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
`

const SCRIPT = `
'use strict'
const BASE = document.body.dataset.base
const state = { buckets: new Map(), selected: new URLSearchParams(location.search).get('bucket'), events: new Map(), typeFilter: '', seq: 0 }
const $ = (id) => document.getElementById(id)
const keyId = (key) => JSON.stringify(key)
const typeId = (type) => JSON.stringify(type)
const MAX_ROWS = 1000

function el(tag, props, ...children) {
  const node = document.createElement(tag)
  Object.assign(node, props)
  for (const child of children) node.append(child)
  return node
}
function showTime(ms) {
  const d = new Date(ms)
  return isNaN(d) ? String(ms) : d.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' }) + '.' + String(d.getMilliseconds()).padStart(3, '0')
}

function renderBuckets() {
  const list = $('buckets')
  list.replaceChildren()
  if (state.buckets.size === 0) list.append(el('li', { className: 'empty', textContent: 'No events yet' }))
  for (const [bucket, count] of [...state.buckets].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const button = el('button', { type: 'button', title: bucket }, el('span', { className: 'name', textContent: bucket }), el('span', { className: 'count', textContent: String(count) }))
    button.setAttribute('aria-current', String(bucket === state.selected))
    button.dataset.bucket = bucket
    button.addEventListener('click', () => select(bucket))
    list.append(el('li', {}, button))
  }
}

function renderEvents(freshIds) {
  const all = [...state.events.values()].sort((a, b) => b.event.serverTime - a.event.serverTime || b.seq - a.seq)
  const types = new Map()
  for (const { event } of all) types.set(typeId(event.type), event.type)
  const select = $('type-filter')
  select.replaceChildren(el('option', { value: '', textContent: 'All types' }))
  for (const [id, type] of [...types].sort((a, b) => (a[0] < b[0] ? -1 : 1))) select.append(el('option', { value: id, textContent: String(type) }))
  if (state.typeFilter && !types.has(state.typeFilter)) select.append(el('option', { value: state.typeFilter, textContent: JSON.parse(state.typeFilter) }))
  select.value = state.typeFilter
  const shown = state.typeFilter ? all.filter(({ event }) => typeId(event.type) === state.typeFilter) : all
  const rows = shown.slice(0, MAX_ROWS).map(({ event, id }) => {
    const row = el('tr', { className: 'event-row' + (freshIds && freshIds.has(id) ? ' fresh' : '') },
      el('td', { className: 'time', textContent: showTime(event.serverTime) }),
      el('td', {}, el('span', { className: 'type', textContent: String(event.type) })),
      el('td', { className: 'key', textContent: id }),
      el('td', { className: 'time', textContent: showTime(event.clientTime) }),
      el('td', { className: 'value', textContent: JSON.stringify(event.value) }))
    row.dataset.key = id
    row.dataset.type = typeId(event.type)
    return row
  })
  $('rows').replaceChildren(...rows)
  $('table').hidden = rows.length === 0
  $('placeholder').hidden = rows.length !== 0
  $('placeholder').textContent = state.selected === null ? 'Pick a bucket, or post events to /api/post-events?bucket=TOKEN.' : all.length === 0 ? 'No events in this bucket yet.' : 'No events of this type.'
  $('summary').textContent = state.selected === null ? '' : shown.length + ' of ' + all.length + ' events' + (shown.length > MAX_ROWS ? ' (newest ' + MAX_ROWS + ' shown)' : '')
  $('bucket-title').textContent = state.selected === null ? 'Events' : state.selected
}

function addEvents(events, fresh) {
  const freshIds = new Set()
  for (const event of events) {
    const id = keyId(event.key)
    if (state.events.has(id)) continue
    state.events.set(id, { event, id, seq: state.seq++ })
    if (fresh) freshIds.add(id)
  }
  return freshIds
}

async function loadSelected() {
  const bucket = state.selected
  if (bucket === null) return renderEvents()
  const response = await fetch(BASE + '/events.json?bucket=' + encodeURIComponent(bucket))
  const { events } = await response.json()
  if (bucket !== state.selected) return
  // Among events with the same serverTime, the later key shows first (events.json is in key order).
  addEvents(events, false)
  renderEvents()
}

function select(bucket) {
  state.selected = bucket
  state.events = new Map()
  const url = new URL(location.href)
  url.searchParams.set('bucket', bucket)
  history.replaceState(null, '', url)
  renderBuckets()
  renderEvents()
  loadSelected()
}

function connect() {
  const source = new EventSource(BASE + '/events/stream')
  source.addEventListener('ready', (message) => {
    $('status').className = 'live'
    $('status').textContent = 'live'
    state.buckets = new Map(JSON.parse(message.data).buckets.map(({ bucket, count }) => [bucket, count]))
    if (state.selected === null && state.buckets.size > 0) return select([...state.buckets.keys()][0])
    renderBuckets()
    loadSelected()
  })
  source.addEventListener('events', (message) => {
    const { bucket, events } = JSON.parse(message.data)
    state.buckets.set(bucket, (state.buckets.get(bucket) || 0) + events.length)
    if (state.selected === null) return select(bucket)
    renderBuckets()
    if (bucket === state.selected) renderEvents(addEvents(events, true))
  })
  source.addEventListener('reset', () => {
    state.buckets = new Map()
    state.events = new Map()
    renderBuckets()
    renderEvents()
  })
  source.addEventListener('error', () => {
    $('status').className = ''
    $('status').textContent = 'reconnecting…'
  })
}

$('type-filter').addEventListener('change', (e) => { state.typeFilter = e.target.value; renderEvents() })
renderBuckets()
renderEvents()
connect()
`

/** The page, for a DevServer mounted at `base` ('' at the root, else a prefix like '/dev'). */
export function renderDevServerPage(base: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>DevServer · logging-system</title>
<style>${STYLE}</style>
</head>
<body data-base="${escapeAttribute(base)}">
<header><h1>logging-system <span>DevServer</span></h1><div id="status">connecting…</div></header>
<main>
<nav><h2>Buckets</h2><ul id="buckets"></ul></nav>
<section>
<div class="toolbar"><h2 id="bucket-title" style="margin:0;font-size:18px">Events</h2>
<label for="type-filter">Type</label><select id="type-filter"><option value="">All types</option></select>
<span id="summary"></span></div>
<table id="table" hidden><thead><tr><th>Received</th><th>Type</th><th>Key</th><th>Client time</th><th>Value</th></tr></thead><tbody id="rows"></tbody></table>
<div id="placeholder">Post events to <code>/api/post-events?bucket=TOKEN</code>.</div>
</section>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`
}
