// A page of another site, opened in a real Chromium, tries to read and wipe the developer's local
// DevServer (an <img> on GET /reset, a form POST, fetch with and without CORS): nothing is read,
// nothing is deleted.
import t from 'tap'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { request } from 'undici'
import { DevServer } from '../src/index.js'
import { chromiumMissing, launchChromium } from './helpers/chromium-browser.js'

const missing = chromiumMissing()
const skip = missing !== undefined && !process.env.CI ? `browser test skipped: ${missing}` : false

t.test('a page of another site cannot read or reset the DevServer', { skip }, async (t) => {
  if (missing) return t.fail(`Chromium is required under CI: ${missing}`)
  const server = new DevServer()
  // What reached /reset, seen by the server: the page's three attempts must all arrive and be refused.
  const resets: string[] = []
  server.app.addHook('onResponse', (request, reply, done) => {
    if (request.url.startsWith('/reset')) resets.push(`${request.method} ${reply.statusCode}`)
    done()
  })
  const url = await server.listen(0, '127.0.0.1')
  t.teardown(() => server.close())
  const posted = await request(`${url}/api/post-events?bucket=b`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ key: 'secret', type: 'signup', value: { email: 'dev@example.test' }, clientTime: 1 }),
  })
  await posted.body.dump()

  // `results` exists before the img: its error can fire before a later script runs.
  const evilPage = `<!doctype html><html><head><script>window.results = {}</script></head><body>
<img src="${url}/reset" onload="results.img='loaded'" onerror="results.img='error'">
<iframe name="sink"></iframe>
<form id="wipe" method="POST" action="${url}/reset" target="sink"></form>
<script>
  fetch('${url}/events.json?bucket=b').then((r) => r.text()).then((text) => (results.read = 'read: ' + text), () => (results.read = 'blocked'))
  fetch('${url}/reset', { method: 'POST', mode: 'no-cors' }).then(() => (results.post = 'sent'), () => (results.post = 'error'))
  document.querySelector('iframe').addEventListener('load', () => (results.form = 'submitted'))
  document.getElementById('wipe').submit()
</script></body></html>`
  // Another site: "localhost" is not the site of "127.0.0.1".
  const evil = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(evilPage))
  await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve))
  t.teardown(() => evil.close())
  const browser = await launchChromium()
  t.teardown(() => browser.close())
  const page = await browser.newPage()
  await page.goto(`http://localhost:${(evil.address() as AddressInfo).port}/`)
  await page.waitForFunction(() => {
    const results = (globalThis as unknown as { results: Record<string, string> }).results
    return results.read !== undefined && results.post !== undefined && results.img !== undefined
  })
  // The form's frame may or may not fire 'load' for a refused answer: the server says when it came.
  while (resets.length < 3) await new Promise((resolve) => setTimeout(resolve, 20))
  const results = await page.evaluate(() => (globalThis as unknown as { results: Record<string, string> }).results)
  t.equal(results['read'], 'blocked', 'the events cannot be read from another site')
  t.same(resets.sort(), ['GET 403', 'POST 403', 'POST 403'], 'the img, the fetch and the form each reached /reset and were refused')
  t.equal(server.store.size, 1, `nothing was deleted (img: ${results['img']}, fetch: ${results['post']}, form: ${results['form'] ?? 'no load event'})`)
  const own = await request(`${url}/events.json?bucket=b`)
  t.match(await own.body.text(), /secret/, 'the event is still there')
})
