/**
 * The analytics endpoints checked end to end on one EventStore backend: the
 * fixture's events are posted over HTTP to POST /api/events, and every answer
 * is compared with counts computed in analytics-fixture.ts from the list the
 * test posted (never from src/analytics).
 */
import type { Test } from 'tap'
import { decodeApiEvent, encodeApiEventBody } from '../../src/decoders/api-events.js'
import { encodeKey } from '../../src/formats/keyjson.js'
import { eventRecord } from '../../src/model/event-record.js'
import type { EventStore } from '../../src/store/event-store.js'
import {
  bruteForceFlows,
  bruteForceFunnel,
  byTimeThenSeq,
  call,
  countBy,
  DAY,
  HOUR,
  NOW,
  postSeeded,
  seededEvents,
  startAnalyticsServer,
  utcDate,
  type SeededEvent,
} from './analytics-fixture.js'

export interface SuiteOptions {
  openStore(t: Test): Promise<EventStore>
  /** Table expression of the backend for the analyses (ClickHouse: `events FINAL`). */
  table?: string
}

const sorted = <T>(items: T[], compare: (a: T, b: T) => number): T[] => [...items].sort(compare)

export async function analyticsSuite(t: Test, options: SuiteOptions): Promise<void> {
  const store = await options.openStore(t)
  const server = await startAnalyticsServer(t, { store, now: () => NOW, serverToken: 'test-server', ...(options.table ? { table: options.table } : {}) })
  const { url } = server
  const events = seededEvents(400)
  // 80 through POST /api/events; the rest as the tailer would write them (same decoder, one store
  // write), which keeps the ClickHouse run short: its writes are serialised round trips.
  await postSeeded(url, 'shop', events.slice(0, 80))
  await store.write({
    events: events.slice(80).map((e) => decodeApiEvent(Buffer.from(encodeApiEventBody(e.type, e.time / 1000, JSON.stringify(e.params))), { bucket: 'shop', serverTime: NOW, serverToken: 'fixture', reqId: e.seq })),
  })
  const inOrder = sorted(events, byTimeThenSeq)

  await t.test('GET /api/events pages through every event in (time, post) order', async (t) => {
    const seen: number[] = []
    for (let page = 1; ; page++) {
      const answer = await call(`${url}/api/events?bucket=shop&limit=37&page=${page}`)
      t.equal(answer.status, 200)
      seen.push(...answer.json.events.map((e: { ts: number }) => Math.round(e.ts * 1000)))
      t.equal(answer.json.hasMore, page * 37 < events.length, `hasMore on page ${page}`)
      if (!answer.json.hasMore) break
    }
    t.same(seen, inOrder.map((e) => e.time))
    const first = (await call(`${url}/api/events?bucket=shop&limit=1`)).json.events[0]
    t.same(first.params, inOrder[0]!.params)
    t.equal(first.event_type, inOrder[0]!.type)
    t.equal(first.id[0], 'api-events', 'the key: source, server token, request number, index')
    t.ok(first.id[1] === 'test-server' || first.id[1] === 'fixture')
    t.ok(Number.isSafeInteger(first.id[2]) && first.id[3] === 0)
    t.equal(first.userId, inOrder[0]!.user)
    t.equal((await call(`${url}/api/events?bucket=shop&limit=1001`)).status, 400, 'over the maximum limit')
    t.equal((await call(`${url}/api/events?bucket=nobody`)).json.events.length, 0, 'another bucket is empty')
  })

  await t.test('POST /api/events/query filters by time and type, and pages', async (t) => {
    const start = Math.floor((NOW - 30 * HOUR) / 1000)
    const end = Math.floor((NOW - 6 * HOUR) / 1000)
    const cases: { body: Record<string, unknown>; expect: SeededEvent[] }[] = [
      { body: { startDate: start, endDate: end }, expect: inOrder.filter((e) => e.time >= start * 1000 && e.time < end * 1000 + 1000) },
      { body: { startDate: start, endDate: '', eventType: 'click' }, expect: inOrder.filter((e) => e.time >= start * 1000 && e.type === 'click') },
      { body: { startDate: '', endDate: end, eventType: ['view', 'purchase'] }, expect: inOrder.filter((e) => e.time < end * 1000 + 1000 && (e.type === 'view' || e.type === 'purchase')) },
      { body: { eventType: 'nothing-like-this' }, expect: [] },
      { body: {}, expect: inOrder },
    ]
    for (const { body, expect } of cases) {
      const got: number[] = []
      for (let page = 1; ; page++) {
        const answer = await call(`${url}/api/events/query?bucket=shop`, { body: { ...body, page, limit: 50 } })
        t.equal(answer.status, 200, answer.text)
        got.push(...answer.json.events.map((e: { ts: number }) => Math.round(e.ts * 1000)))
        if (!answer.json.hasMore) break
      }
      t.same(got, expect.map((e) => e.time), JSON.stringify(body))
    }
    // An event exactly on endDate's last millisecond is in; the next one is out.
    const edge = inOrder[200]!
    const endSecond = Math.floor(edge.time / 1000)
    const answer = await call(`${url}/api/events/query?bucket=shop`, { body: { endDate: endSecond, limit: 1000 } })
    t.equal(answer.json.events.length, inOrder.filter((e) => e.time < (endSecond + 1) * 1000).length, 'endDate is inclusive to the end of its second')
    for (const [body, field] of [[{ startDate: 'yesterday' }, 'startDate'], [{ startDate: 10, endDate: 5 }, 'startDate'], [{ eventType: [''] }, 'eventType'], [{ page: 0 }, 'page'], [{ limit: 5000 }, 'limit']] as const) {
      const bad = await call(`${url}/api/events/query?bucket=shop`, { body })
      t.equal(bad.status, 400, JSON.stringify(body))
      t.match(bad.json.reason, new RegExp(`^${field}: `), 'the reason names the parameter')
    }
  })

  await t.test('GET /api/stats/:type? counts the last 48 h per bucket at each granularity', async (t) => {
    for (const [granularity, size] of [['hour', HOUR], ['minute', 60_000], ['second', 1000]] as const) {
      const to = Math.floor(NOW / size) * size + size
      const inWindow = events.filter((e) => e.time >= to - 48 * HOUR && e.time < to)
      for (const type of [undefined, 'purchase']) {
        const chosen = type ? inWindow.filter((e) => e.type === type) : inWindow
        const expected = countBy(chosen, (e) => String(Math.floor(e.time / size) * size))
        const answer = await call(`${url}/api/stats${type ? '/' + type : ''}?bucket=shop&granularity=${granularity}`)
        t.equal(answer.status, 200)
        t.equal(answer.json.total, chosen.length, `${granularity} ${type ?? 'all'} total`)
        t.equal(answer.json.to - answer.json.from, 48 * HOUR)
        t.same(new Map(answer.json.buckets.map((b: { ts: number; total: number }) => [String(b.ts), b.total])), expected, `${granularity} ${type ?? 'all'} buckets`)
      }
      if (granularity === 'hour') {
        const answer = await call(`${url}/api/stats?bucket=shop`)
        const perType = countBy(inWindow, (e) => `${e.type}@${Math.floor(e.time / HOUR) * HOUR}`)
        t.same(new Map(answer.json.byType.map((r: { event_type: string; ts: number; total: number }) => [`${r.event_type}@${r.ts}`, r.total])), perType, 'per type, default granularity hour')
      }
    }
    t.equal((await call(`${url}/api/stats?granularity=week`)).status, 400)
  })

  await t.test('GET /api/aggregations/daily: events per UTC day and type', async (t) => {
    const answer = await call(`${url}/api/aggregations/daily?bucket=shop`)
    const expected = countBy(events, (e) => `${utcDate(e.time)} ${e.type}`)
    t.same(new Map(answer.json.days.map((r: { date: string; event_type: string; total: number }) => [`${r.date} ${r.event_type}`, r.total])), expected)
    const row = answer.json.days[0]
    t.equal(`${row.year}-${String(row.month).padStart(2, '0')}-${String(row.day).padStart(2, '0')}`, row.date, 'year, month, day agree with date')
    const filtered = await call(`${url}/api/aggregations/daily?bucket=shop&eventType=signup&eventType=share`)
    t.equal(filtered.json.days.reduce((n: number, r: { total: number }) => n + r.total, 0), events.filter((e) => e.type === 'signup' || e.type === 'share').length, 'repeated eventType')
  })

  await t.test('activity by hour of day and weekday', async (t) => {
    const startDate = Math.floor((NOW - 48 * HOUR) / 1000)
    const answer = await call(`${url}/api/analysis/activity?bucket=shop&startDate=${startDate}`)
    const chosen = events.filter((e) => e.time >= startDate * 1000)
    const byHour = new Array(24).fill(0)
    const byWeekday = new Array(7).fill(0)
    for (const e of chosen) {
      byHour[new Date(e.time).getUTCHours()]++
      byWeekday[(new Date(e.time).getUTCDay() + 6) % 7]++
    }
    t.same(answer.json.byHour, byHour)
    t.same(answer.json.byWeekday, byWeekday)
    t.equal(answer.json.weekdays[0], 'Mon')
  })

  await t.test('unique users per day, exact and approximate', async (t) => {
    const withUser = events.filter((e) => e.user !== null)
    const expected = new Map<string, Set<string>>()
    for (const e of withUser) expected.set(utcDate(e.time), (expected.get(utcDate(e.time)) ?? new Set()).add(e.user!))
    const exact = await call(`${url}/api/analysis/uniques?bucket=shop`)
    t.same(new Map(exact.json.days.map((d: { date: string; users: number }) => [d.date, d.users])), new Map([...expected].map(([d, s]) => [d, s.size])))
    t.equal(exact.json.total, new Set(withUser.map((e) => e.user)).size)
    t.equal(exact.json.approximate, false)
    const approx = await call(`${url}/api/analysis/uniques`, { body: { bucket: 'shop', approximate: true } })
    t.equal(approx.json.approximate, true)
    t.same(approx.json.days, exact.json.days, 'small days are counted exactly in approximate mode too')
    t.equal(approx.json.total, exact.json.total)
    const typed = await call(`${url}/api/analysis/uniques?bucket=shop&eventType=purchase`)
    t.equal(typed.json.total, new Set(withUser.filter((e) => e.type === 'purchase').map((e) => e.user)).size, 'filtered by type')
  })

  await t.test('approximate unique users on a large range stay within the documented error', async (t) => {
    // 2 days × 15,000 users (7,500 of them on both days): written straight to the store, as the tailer would.
    const records = []
    for (let i = 0; i < 22_500; i++) {
      const days = i < 7_500 ? [0, 1] : i < 15_000 ? [0] : [1]
      for (const day of days) {
        records.push(eventRecord({ bucket: 'many', key: encodeKey(['many', i, day]), type: 'view', value: '{}', clientTime: NOW - 10 * DAY + day * DAY, serverTime: NOW, userId: `user-${i}`, source: 'test' }))
      }
    }
    await store.write({ events: records })
    const exact = (await call(`${url}/api/analysis/uniques?bucket=many`)).json
    t.same(exact.days.map((d: { users: number }) => d.users), [15_000, 15_000])
    t.equal(exact.total, 22_500)
    const approx = (await call(`${url}/api/analysis/uniques?bucket=many&approximate=true`)).json
    // DuckDB: a 1-in-8 hash sample, standard error √(7/N) ≈ 2.2 % at 15,000; 3σ is under 7 %. ClickHouse's uniq is exact here.
    for (const day of approx.days) t.ok(Math.abs(day.users - 15_000) / 15_000 < 0.07, `${day.date}: ${day.users} within 7 % of 15000`)
    t.ok(Math.abs(approx.total - 22_500) / 22_500 < 0.07, `range: ${approx.total} within 7 % of 22500`)
  })

  await t.test('events per user', async (t) => {
    const expected = countBy(events.filter((e) => e.user !== null), (e) => e.user!)
    const answer = await call(`${url}/api/analysis/users?bucket=shop&limit=1000`)
    t.same(new Map(answer.json.users.map((u: { user: string; total: number }) => [u.user, u.total])), expected)
    const totals = answer.json.users.map((u: { total: number }) => u.total)
    t.same(totals, [...totals].sort((a: number, b: number) => b - a), 'most active first')
    const page2 = await call(`${url}/api/analysis/users?bucket=shop&limit=10&page=2`)
    t.same(page2.json.users, answer.json.users.slice(10, 20), 'paged')
  })

  await t.test('flows: A followed next by B, per user', async (t) => {
    const expected = bruteForceFlows(events)
    const answer = await call(`${url}/api/analysis/flows?bucket=shop&limit=1000`)
    t.same(new Map(answer.json.flows.map((f: { from: string; to: string; total: number }) => [`${f.from}>${f.to}`, f.total])), expected)
    const top = await call(`${url}/api/analysis/flows?bucket=shop&limit=3`)
    t.same(top.json.flows.map((f: { total: number }) => f.total), [...expected.values()].sort((a, b) => b - a).slice(0, 3), 'top 3')
    const since = Math.floor((NOW - 24 * HOUR) / 1000)
    const ranged = await call(`${url}/api/analysis/flows`, { body: { bucket: 'shop', startDate: since, eventType: ['view', 'click'], limit: 1000 } })
    t.same(new Map(ranged.json.flows.map((f: { from: string; to: string; total: number }) => [`${f.from}>${f.to}`, f.total])), bruteForceFlows(events.filter((e) => e.time >= since * 1000 && (e.type === 'view' || e.type === 'click'))), 'with time and type filters')
  })

  await t.test('funnels on random data match a brute-force search', async (t) => {
    for (const [steps, windowSeconds] of [[['view', 'click', 'purchase'], 3600], [['view', 'view', 'signup'], 6 * 3600], [['click', 'share'], 600]] as const) {
      const answer = await call(`${url}/api/analysis/funnel`, { body: { bucket: 'shop', steps, window: windowSeconds } })
      t.equal(answer.status, 200, answer.text)
      t.same(answer.json.steps.map((s: { users: number }) => s.users), bruteForceFunnel(events, steps, windowSeconds * 1000), `${steps.join(' → ')} in ${windowSeconds} s`)
    }
  })

  await t.test('funnel window edges, repeated steps, out-of-order posts', async (t) => {
    const T = NOW - 10 * DAY
    // Posted in this order (user, type, seconds after T): out-of-order posts are deliberate.
    const posts: [string, string, number][] = [
      ['u1', 'A', 0], ['u1', 'B', 100], ['u1', 'C', 600], // C exactly at the window's end: in
      ['u2', 'A', 0], ['u2', 'B', 100], ['u2', 'C', 600.001], // 1 ms past it: out
      ['u3', 'A', 0], ['u3', 'A', 500], ['u3', 'B', 550], ['u3', 'C', 1050], // the later A starts a chain that fits
      ['u5', 'C', 300], ['u5', 'A', 0], ['u5', 'B', 100], // posted C, A, B: time order decides
      ['u6', 'B', 0], ['u6', 'A', 100], ['u6', 'C', 200], // B before A does not count
      ['u7', 'A', 0], ['u7', 'C', 50], ['u7', 'B', 100], // C before B does not count
      ['u8', 'A', 0], ['u8', 'B', 10],
      ['u9', 'A', 0], ['u9', 'B', 10], ['u9', 'A', 20],
      ['u10', 'A', 0], ['u10', 'A', 10], ['u10', 'B', 20],
      ['u11', 'B', 0], ['u11', 'C', 1], // never entered
    ]
    for (const [user, type, seconds] of posts) {
      const answer = await call(`${url}/api/events?bucket=funnel`, { body: { event_type: type, ts: (T + seconds * 1000) / 1000, params: { user } } })
      t.equal(answer.status, 202)
    }
    const funnel = async (steps: string[], window: number): Promise<any> => (await call(`${url}/api/analysis/funnel`, { body: { bucket: 'funnel', steps, window } })).json
    const abc = await funnel(['A', 'B', 'C'], 600)
    t.same(abc.steps.map((s: { users: number }) => s.users), [9, 8, 3], 'A→B→C: u1, u3, u5 convert; u2 misses by 1 ms')
    t.same(abc.steps.map((s: { dropOff: number }) => s.dropOff), [0, 1, 5])
    t.equal(abc.steps[2].conversion, 3 / 9)
    t.equal(abc.steps[2].conversionFromPrevious, 3 / 8)
    const aba = await funnel(['A', 'B', 'A'], 600)
    t.same(aba.steps.map((s: { users: number }) => s.users), [9, 8, 1], 'A→B→A: only u9 has a second A after B')
    const wide = await funnel(['A', 'B', 'C'], 601)
    t.same(wide.steps.map((s: { users: number }) => s.users), [9, 8, 4], 'a 1 s wider window takes u2 in')
    const ranged = await call(`${url}/api/analysis/funnel`, { body: { bucket: 'funnel', steps: ['A', 'B'], window: 600, startDate: Math.floor(T / 1000) + 5, endDate: '' } })
    t.same(ranged.json.steps.map((s: { users: number }) => s.users), [4, 2], 'startDate drops the events at T: u3, u6, u9, u10 enter; u3 and u10 reach B')
    for (const [body, field] of [[{ steps: ['A'] }, 'steps'], [{ steps: 'A' }, 'steps'], [{ steps: ['A', 'B'], window: 0 }, 'window'], [{ steps: ['A', 'B'], eventType: 'A' }, 'eventType']] as const) {
      const bad = await call(`${url}/api/analysis/funnel`, { body: { bucket: 'funnel', ...body } })
      t.equal(bad.status, 400)
      t.match(bad.json.reason, new RegExp(`^${field}: `))
    }
  })

  await t.test('POST /api/events: 202 when stored, 400 naming the field, nothing stored on error', async (t) => {
    const count = async (): Promise<number> => (await call(`${url}/api/events?bucket=checks&limit=1000`)).json.events.length
    const raw = '{ "event_type" : "odd" , "params" : {"a" : 1.50, "b":"\\u00e9é", "nested": {"x": [1, 2 ,3]}} , "ts": 1700000000.5 }'
    const ok = await call(`${url}/api/events?bucket=checks`, { rawBody: raw, headers: { 'content-type': 'application/json' } })
    t.equal(ok.status, 202)
    t.equal(ok.json.stored, 1)
    const listed = await call(`${url}/api/events?bucket=checks`)
    t.ok(listed.text.includes('"params":{"a" : 1.50, "b":"\\u00e9é", "nested": {"x": [1, 2 ,3]}}'), 'params kept as the exact text received')
    t.equal(listed.json.events[0].ts, 1700000000.5)
    const noTs = await call(`${url}/api/events?bucket=checks`, { body: { event_type: 'no-ts' } })
    t.equal(noTs.status, 202)
    const stored = (await call(`${url}/api/events/query?bucket=checks`, { body: { eventType: 'no-ts' } })).json.events[0]
    t.equal(stored.ts, NOW / 1000, 'ts defaults to the server time')
    t.same(stored.params, {}, 'params default to {}')
    const before = await count()
    const bad: [string, string][] = [
      ['{"ts": 5}', 'event_type'],
      ['{"event_type": ""}', 'event_type'],
      ['{"event_type": 7}', 'event_type'],
      ['{"event_type": "x", "ts": "yesterday"}', 'ts'],
      ['{"event_type": "x", "ts": -1}', 'ts'],
      ['{"event_type": "x", "params": [1]}', 'params'],
      ['{"event_type": "x", "params": "a"}', 'params'],
      ['{"event_type": "x", "extra": 1}', 'body'],
      ['[]', 'body'],
      ['{"event_type": "x"', 'body'],
      ['{"event_type": "x", "params": ' + '['.repeat(100) + ']'.repeat(100) + '}', 'body'],
    ]
    for (const [body, field] of bad) {
      const answer = await call(`${url}/api/events?bucket=checks`, { rawBody: body, headers: { 'content-type': 'application/json' } })
      t.equal(answer.status, 400, body.slice(0, 60))
      t.equal(answer.json.field, field, `names ${field}`)
      t.equal(answer.json.error, 'LS_EVENT_INVALID')
    }
    t.equal(await count(), before, 'nothing stored')
    const tooBig = await call(`${url}/api/events?bucket=checks`, { rawBody: JSON.stringify({ event_type: 'x', params: { pad: 'x'.repeat(1_100_000) } }), headers: { 'content-type': 'application/json' } })
    t.equal(tooBig.status, 413)
    const userRule = await call(`${url}/api/events?bucket=checks`, { body: { event_type: 'who', params: { userId: 'second', distinct_id: 'third' } } })
    t.equal(userRule.status, 202)
    t.equal((await call(`${url}/api/events/query?bucket=checks`, { body: { eventType: 'who' } })).json.events[0].userId, 'second', 'userId before distinct_id')
  })

  await t.test('live tail: events stored since a time', async (t) => {
    const first = await call(`${url}/api/events/tail?bucket=tail`)
    t.same(first.json.events, [])
    await call(`${url}/api/events?bucket=tail`, { body: { event_type: 'one', params: { user: 'x' } } })
    const second = await call(`${url}/api/events/tail?bucket=tail&since=0`)
    t.same(second.json.events.map((e: { event_type: string }) => e.event_type), ['one'])
    await call(`${url}/api/events?bucket=tail`, { body: { event_type: 'two' } })
    const third = await call(`${url}/api/events/tail?bucket=tail&since=${second.json.next}`)
    t.ok(third.json.events.some((e: { event_type: string }) => e.event_type === 'two'), 'the new event comes after the cursor')
    t.notOk(third.json.events.some((e: { event_type: string }) => e.event_type !== 'one' && e.event_type !== 'two'))
    const newest = await call(`${url}/api/events/tail?bucket=tail&limit=1`)
    t.same(newest.json.events.map((e: { event_type: string }) => e.event_type), ['two'], 'without since: the newest events')
  })

  await t.test('GET /help lists the real routes in the seed\'s shape; OPTIONS answers preflights; GET / is the dashboard', async (t) => {
    const help = await call(`${url}/help`)
    t.equal(help.json.message, 'Move along nothing to see here.')
    t.equal(help.json.routes['/help'], 'Shows the magical help')
    const events = help.json.routes['/api']['/events'] as { uri: string; method: string[]; required?: string[] }[]
    t.ok(events.some((r) => r.uri === '/' && r.method[0] === 'POST' && r.required?.[0] === 'event_type'))
    t.ok(events.some((r) => r.uri === '/query' && r.method[0] === 'POST'))
    t.ok(help.json.routes['/api']['/stats'].some((r: { uri: string }) => r.uri === '/:type?'))
    // Every listed route is served (none is a 404).
    for (const [group, entries] of Object.entries(help.json.routes['/api'] as Record<string, { uri: string; method: string[] }[]>)) {
      for (const entry of entries) {
        const path = `/api${group}${entry.uri === '/' ? '' : entry.uri.replace('/:type?', '/view')}`
        const answer = await call(`${url}${path}?bucket=shop${path.endsWith('funnel') ? '&steps=view&steps=click' : ''}`, entry.method[0] === 'POST' ? { body: path.endsWith('/api/events') ? { event_type: 'help-check' } : {} } : {})
        t.not(answer.status, 404, `${entry.method[0]} ${path}`)
        t.ok(answer.status < 500, `${entry.method[0]} ${path}: ${answer.status}`)
      }
    }
    const preflight = await call(`${url}/api/events/query`, { method: 'OPTIONS' as 'GET', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } })
    t.equal(preflight.status, 204)
    t.equal(preflight.headers['access-control-allow-origin'], 'https://app.example')
    t.match(String(preflight.headers['access-control-allow-methods']), /POST/)
    const page = await call(`${url}/`)
    t.equal(page.status, 200)
    t.match(String(page.headers['content-type']), /text\/html/)
    t.match(page.text, /<title>Analytics/)
  })
}
