import t from 'tap'
import { join } from 'node:path'
import { main } from '../src/cli/main.js'
import { EventServer } from '../src/servers/event-server.js'
import { DuckDbEventStore } from '../src/store/duckdb/duckdb-store.js'
import { openEventStore } from '../src/store/open-store.js'
import { captureIo } from './helpers/cli-io.js'
import { chromiumMissing, launchChromium } from './helpers/chromium-browser.js'
import { bruteForceFunnel, call, countBy, HOUR, postSeeded, seededEvents, startAnalyticsServer, utcDate } from './helpers/analytics-fixture.js'
import { tempDir } from './helpers/temp.js'

const missing = chromiumMissing()
// Under CI a missing browser is a failure, elsewhere a skip that says how to install it.
const skip = missing !== undefined && !process.env.CI ? `browser test skipped: ${missing}` : false

t.test('the dashboard shows the seeded numbers, runs funnels and follows new events', { skip }, async (t) => {
  if (missing) return t.fail(`Chromium is required under CI: ${missing}`)
  const store = new DuckDbEventStore({ path: join(tempDir(t), 'events.duckdb'), threads: 1 })
  await store.open()
  t.teardown(() => store.close())
  const { url } = await startAnalyticsServer(t, { store })
  // The fixture's 72 h before its clock, moved to end now: the page's ranges are relative to the real clock.
  const now = Date.now()
  const shift = now - Math.max(...seededEvents(300).map((e) => e.time)) - 5000
  const events = seededEvents(300).map((e) => ({ ...e, time: e.time + shift }))
  await postSeeded(url, 'default', events)

  const browser = await launchChromium()
  t.teardown(() => browser.close())
  const page = await browser.newPage({ viewport: { width: 1280, height: 1500 } })
  const pageErrors: string[] = []
  page.on('pageerror', (err) => pageErrors.push(err.message))
  await page.goto(`${url}/`)
  await page.locator('body[data-loaded]').waitFor()

  // 48 h chart: every bar's number, per type, against the posted events.
  const hourTo = Math.floor(now / HOUR) * HOUR + HOUR
  const inWindow = events.filter((e) => e.time >= hourTo - 48 * HOUR && e.time < hourTo)
  const bars = await page.locator('rect.stat-bar').evaluateAll((rects) => rects.map((r) => ({ type: r.getAttribute('data-type')!, ts: Number(r.getAttribute('data-ts')), count: Number(r.getAttribute('data-count')) })))
  t.same(new Map(bars.map((b) => [`${b.type}@${b.ts}`, b.count])), countBy(inWindow, (e) => `${e.type}@${Math.floor(e.time / HOUR) * HOUR}`), 'one bar segment per type and hour with its count')
  t.equal(await page.locator('#stats-total').innerText(), inWindow.length.toLocaleString('en-US'))
  const legend = await page.locator('#stats-legend .legend-item').evaluateAll((items) => items.map((i) => [i.getAttribute('data-type'), Number(i.getAttribute('data-total'))]))
  t.same(new Map(legend as [string, number][]), countBy(inWindow, (e) => e.type), 'legend totals per type')

  // Unique users per day over the default range (last 7 days: all events).
  const perDay = new Map<string, Set<string>>()
  for (const e of events) if (e.user !== null) perDay.set(utcDate(e.time), (perDay.get(utcDate(e.time)) ?? new Set()).add(e.user))
  const uniqueBars = await page.locator('rect.unique-bar').evaluateAll((rects) => rects.map((r) => [r.getAttribute('data-date'), Number(r.getAttribute('data-users'))]))
  t.same(new Map(uniqueBars as [string, number][]), new Map([...perDay].map(([d, s]) => [d, s.size])), 'unique users per day')

  // Activity heatmap cells add up to all events.
  const cells = await page.locator('rect.activity-cell').evaluateAll((rects) => rects.map((r) => Number(r.getAttribute('data-count'))))
  t.equal(cells.length, 7 * 24)
  t.equal(cells.reduce((a, b) => a + b, 0), events.length)

  // Top flows: the first row is the most frequent pair.
  await page.locator('tr.flow-row').first().waitFor()
  const flowTotals = await page.locator('tr.flow-row').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-total'))))
  t.same(flowTotals, [...flowTotals].sort((a, b) => b - a), 'flows sorted')

  // The filter by type narrows the stats chart to that type.
  await page.selectOption('#type', 'purchase')
  await page.locator('body[data-loaded="2"]').waitFor()
  const purchaseBars = await page.locator('rect.stat-bar').evaluateAll((rects) => rects.map((r) => r.getAttribute('data-type')))
  t.ok(purchaseBars.length > 0 && purchaseBars.every((type) => type === 'purchase'), 'only purchases')
  t.equal(await page.locator('#stats-total').innerText(), inWindow.filter((e) => e.type === 'purchase').length.toLocaleString('en-US'))
  await page.selectOption('#type', '')
  await page.locator('body[data-loaded="3"]').waitFor()

  // Funnel builder: three steps, a 6 hour window.
  await page.locator('#add-step').click()
  const selects = page.locator('.step select')
  t.equal(await selects.count(), 3)
  await selects.nth(0).selectOption('view')
  await selects.nth(1).selectOption('click')
  await selects.nth(2).selectOption('purchase')
  await page.fill('#window', '6')
  await page.selectOption('#window-unit', '3600')
  await page.click('#run-funnel')
  await page.locator('.funnel-row').first().waitFor()
  const funnel = await page.locator('.funnel-row').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-users'))))
  const startDate = Math.floor(Date.now() / 1000) - 604800
  t.same(funnel, bruteForceFunnel(events.filter((e) => e.time >= startDate * 1000), ['view', 'click', 'purchase'], 6 * HOUR), 'funnel users per step')
  await page.screenshot({ path: join(process.env.SCREENSHOT_DIR ?? tempDir(t), 'dashboard.png'), fullPage: true })

  // Removing a step and running again.
  await page.locator('.remove-step').nth(2).click()
  await page.click('#run-funnel')
  await page.waitForFunction(() => (globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }).document.querySelectorAll('.funnel-row').length === 2)

  // Live tail: a new event shows up without reloading.
  const before = await page.locator('tr.tail-row').count()
  t.ok(before > 0, 'the tail starts with recent events')
  const posted = await call(`${url}/api/events`, { body: { event_type: 'live_check', params: { user: 'tail-user', note: 'fresh' } } })
  t.equal(posted.status, 202)
  await page.locator('tr.tail-row[data-type="live_check"]').waitFor()
  t.match(await page.locator('tr.tail-row').first().innerText(), /live_check[\s\S]*tail-user/)
  await page.screenshot({ path: join(process.env.SCREENSHOT_DIR ?? tempDir(t), 'dashboard-tail.png'), fullPage: false })
  t.same(pageErrors, [], 'no script errors')
})

t.test('gen fills an EventServer that the dashboard shows', { skip }, async (t) => {
  if (missing) return t.fail(`Chromium is required under CI: ${missing}`)
  const server = new EventServer({ store: await openEventStore({ db: join(tempDir(t), 'events.duckdb') }) })
  const url = await server.listen(0)
  t.teardown(() => server.close())
  const io = captureIo()
  t.equal(await main(['gen', '--uri', `${url}/api/events`, '--total', '80', '--concurrency', '10'], io), 0, io.err())
  const browser = await launchChromium()
  t.teardown(() => browser.close())
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
  await page.goto(`${url}/`)
  await page.locator('body[data-loaded]').waitFor()
  t.equal(await page.locator('#stats-total').innerText(), '80', 'all 80 generated events (one day back to now) are in the 48 h chart')
  const bars = await page.locator('rect.stat-bar').evaluateAll((rects) => rects.map((r) => Number(r.getAttribute('data-count'))))
  t.equal(bars.reduce((a, b) => a + b, 0), 80)
  await page.locator('tr.tail-row').first().waitFor()
  t.equal(await page.locator('tr.tail-row').count(), 80, 'the live tail starts with them')
  await page.screenshot({ path: join(process.env.SCREENSHOT_DIR ?? tempDir(t), 'dashboard-gen.png'), fullPage: false })
})
