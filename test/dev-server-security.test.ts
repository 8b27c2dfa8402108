// A web page the developer visits must not read or wipe the DevServer's events:
// /reset refuses other sites, only event posts reflect an Origin, and a request that
// came in on loopback must name a loopback host (DNS rebinding).
import t, { type Test } from 'tap'
import { request } from 'undici'
import { createAdminServer, DevServer, LoggingServer } from '../src/index.js'
import { tempDir } from './helpers/temp.js'

const EVENT = JSON.stringify({ key: 'k1', type: 'click', value: { a: 1 }, clientTime: 1 })

async function started(t: Test, options: ConstructorParameters<typeof DevServer>[0] = {}) {
  const server = new DevServer(options)
  const url = await server.listen(0, '127.0.0.1')
  t.teardown(() => server.close())
  const posted = await request(`${url}/api/post-events?bucket=b`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: EVENT })
  await posted.body.dump()
  return { server, url }
}

t.test('/reset: POST from the page itself works; GET and POST sent for another site are refused', async (t) => {
  const { server, url } = await started(t)
  const host = new URL(url).host
  for (const [method, headers, why] of [
    ['GET', { 'sec-fetch-site': 'cross-site' }, 'an <img> on another site'],
    ['GET', { origin: 'http://evil.test' }, 'a fetch from another origin'],
    ['POST', { origin: 'http://evil.test', 'content-type': 'application/x-www-form-urlencoded' }, 'a form on another site'],
    ['POST', { 'sec-fetch-site': 'same-site' }, 'a sibling subdomain'],
  ] as const) {
    const res = await request(`${url}/reset`, { method, headers })
    const body = (await res.body.json()) as { error: string; reason: string }
    t.equal(res.statusCode, 403, `${method} /reset from ${why}: 403`)
    t.match(body, { error: 'LS_BAD_REQUEST', reason: /another site/ })
    t.equal(res.headers['access-control-allow-origin'], undefined, 'no CORS on /reset')
  }
  t.equal(server.store.size, 1, 'nothing deleted')
  const own = await request(`${url}/reset`, { method: 'POST', headers: { origin: `http://${host}`, 'sec-fetch-site': 'same-origin' } })
  t.same(await own.body.json(), { deleted: 1 }, 'the page itself resets')
  const plain = await request(`${url}/reset`)
  t.equal(plain.statusCode, 200, 'GET /reset (the seed API) from curl still works')
  await plain.body.dump()
})

t.test('reads do not reflect arbitrary origins; event posts still do', async (t) => {
  const { url } = await started(t)
  for (const path of ['/events.json?bucket=b', '/buckets.json', '/']) {
    const res = await request(url + path, { headers: { origin: 'http://evil.test' } })
    await res.body.dump()
    t.equal(res.headers['access-control-allow-origin'], undefined, `${path}: no Access-Control-Allow-Origin for another origin`)
  }
  const preflight = await request(`${url}/reset`, { method: 'OPTIONS', headers: { origin: 'http://evil.test', 'access-control-request-method': 'POST' } })
  await preflight.body.dump()
  t.equal(preflight.headers['access-control-allow-origin'], undefined, 'a preflight for /reset is not allowed')
  const post = await request(`${url}/api/post-events?bucket=b`, { method: 'POST', headers: { origin: 'http://app.test', 'content-type': 'application/json' }, body: EVENT })
  await post.body.dump()
  t.equal(post.headers['access-control-allow-origin'], 'http://app.test', 'browsers still post events cross-origin')
})

t.test('a request on loopback naming another host (DNS rebinding) is refused', async (t) => {
  const { url } = await started(t)
  const port = new URL(url).port
  const res = await request(`${url}/events.json?bucket=b`, { headers: { host: `evil.test:${port}` } })
  t.equal(res.statusCode, 403)
  t.match(await res.body.json(), { error: 'LS_BAD_REQUEST', reason: /DNS rebinding/ })
  for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `app.localhost:${port}`]) {
    const ok = await request(`${url}/events.json?bucket=b`, { headers: { host } })
    await ok.body.dump()
    t.equal(ok.statusCode, 200, `${host} is a loopback name`)
  }
  const { url: allowing } = await started(t, { allowedHosts: ['devbox.internal'] })
  const allowed = await request(`${allowing}/events.json?bucket=b`, { headers: { host: 'devbox.internal' } })
  await allowed.body.dump()
  t.equal(allowed.statusCode, 200, 'allowedHosts adds names')
})

t.test('the admin port (loopback by default) refuses a rebound Host too', async (t) => {
  const logging = new LoggingServer({ directory: tempDir(t) })
  const admin = createAdminServer(logging)
  const { port } = await admin.listen(0, '127.0.0.1')
  t.teardown(async () => {
    await admin.close()
    await logging.close()
  })
  const rebound = await request(`http://127.0.0.1:${port}/metrics`, { headers: { host: `evil.test:${port}` } })
  await rebound.body.dump()
  t.equal(rebound.statusCode, 403)
  const local = await request(`http://127.0.0.1:${port}/healthz`)
  await local.body.dump()
  t.equal(local.statusCode, 200)
})
