import t from 'tap'
import { request } from 'undici'
import { main } from '../src/cli/main.js'
import { captureIo } from './helpers/cli-io.js'

t.test('logging-system dev serves until the stop signal, then exits 0', async (t) => {
  const io = captureIo()
  const running = main(['dev', '--port', '0', '--host', '127.0.0.1'], io)
  t.teardown(() => io.stop())
  while (!/listening on (http:\S+)\//.test(io.out())) await new Promise((resolve) => setTimeout(resolve, 10))
  const url = /listening on (http:\S+)\//.exec(io.out())![1]!
  const posted = await request(`${url}/api/post-events?bucket=cli`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key: 1, type: 't', value: {}, clientTime: 0 }) })
  t.same(await posted.body.json(), { stored: 1, duplicates: 0 })
  const page = await request(`${url}/`)
  t.match(await page.body.text(), /<title>DevServer/)
  io.stop('SIGINT')
  t.equal(await running, 0)
  t.match(io.err(), /SIGINT, closing/)
  await t.rejects(request(`${url}/events.json?bucket=cli`), 'no longer listening')
})

t.test('dev --help lists its flags with defaults', async (t) => {
  const io = captureIo()
  t.equal(await main(['dev', '--help'], io), 0)
  t.match(io.out(), /--port <integer> .*default: 7007/)
  t.match(io.out(), /--host <value> .*default: 127\.0\.0\.1/)
})
