import t from 'tap'
import { request } from 'undici'
import { DevServer, type LogEvent } from '../src/index.js'
import { chromiumMissing, launchChromium } from './helpers/chromium-browser.js'

const missing = chromiumMissing()
// Under CI a missing browser is a failure, elsewhere a skip that says how to install it.
const skip = missing !== undefined && !process.env.CI ? `browser test skipped: ${missing}` : false

t.test('the live page shows posted events, newest first, per bucket, filtered by type', { skip }, async (t) => {
  if (missing) return t.fail(`Chromium is required under CI: ${missing}`)
  const server = new DevServer()
  const url = await server.listen(0)
  t.teardown(() => server.close())
  const browser = await launchChromium()
  t.teardown(() => browser.close())
  const page = await browser.newPage({ viewport: { width: 1200, height: 700 } })
  const postJson = async (bucket: string, events: LogEvent[]): Promise<void> => {
    const response = await request(`${url}/api/post-events?bucket=${bucket}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ events }) })
    t.equal(response.statusCode, 200)
    await response.body.dump()
  }
  await postJson('shop', [{ key: 'before-1', type: 'page_view', value: { page: '/' }, clientTime: 1_700_000_000_000 }])

  await page.goto(`${url}/?bucket=shop`)
  await page.locator('#status.live').waitFor()
  await page.locator('tr.event-row[data-key="\\"before-1\\""]').waitFor()

  // Posted after the page loaded: it must arrive over the live stream.
  await postJson('shop', [{ key: 'live-1', type: 'purchase', value: { amountCents: 1299, user: 'user-7' }, clientTime: 1_700_000_000_500 }])
  await page.locator('tr.event-row[data-key="\\"live-1\\""]').waitFor()
  t.same(await page.locator('tr.event-row').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-key'))), ['"live-1"', '"before-1"'], 'newest first')
  t.match(await page.locator('tr.event-row').first().innerText(), /purchase[\s\S]*user-7/)

  // Another bucket shows in the list but not in the table.
  await postJson('other', [{ key: 'elsewhere', type: 'click', value: {}, clientTime: 1 }])
  await page.locator('nav button[data-bucket="other"]').waitFor()
  t.equal(await page.locator('tr.event-row').count(), 2, 'only the selected bucket')

  // Filter by type.
  await page.selectOption('#type-filter', '"purchase"')
  t.same(await page.locator('tr.event-row').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-key'))), ['"live-1"'], 'filtered')
  await page.selectOption('#type-filter', '')
  t.equal(await page.locator('tr.event-row').count(), 2, 'filter cleared')

  // Switching buckets.
  await page.click('nav button[data-bucket="other"]')
  await page.locator('tr.event-row[data-key="\\"elsewhere\\""]').waitFor()
  t.equal(await page.locator('tr.event-row').count(), 1)

  // A reset empties the page.
  await (await request(`${url}/reset`, { method: 'POST' })).body.dump()
  await page.locator('#placeholder:not([hidden])').waitFor()
  t.equal(await page.locator('tr.event-row').count(), 0, 'reset clears the page')
})
