// The README's quick start, as written: `npm ci && npm start` (the start script's command), its curl
// body, its replay commands and the EventServer tailing the batches, run against the built CLI in an
// empty directory (as in a fresh clone after `npm ci`, which `npm start` builds).
import t from 'tap'
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { promisify } from 'node:util'
import { request } from 'undici'
import { spawnNode } from './helpers/spawn.js'
import { tempDir } from './helpers/temp.js'

const BIN = new URL('../bin/logging-system.js', import.meta.url).pathname
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
const quickStart = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('## Commands'))

/** `npx logging-system ARGS` from the quick start, as argument lists. */
const commands = [...quickStart.matchAll(/^npx logging-system ([^#\n]+?)\s*(?:#.*)?$/gm)].map((m) => m[1]!.split(/\s+/))

const startScript = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> }).scripts['start']!

t.test('the quick start works as written', async (t) => {
  t.match(quickStart, /^npm ci && npm start\b/m, 'two commands start the logger')
  const started = /^node bin\/logging-system\.js (.+)$/.exec(startScript)
  t.ok(started, 'npm start runs the CLI')
  const serveArgs = started![1]!.split(/\s+/)
  t.same(serveArgs, ['serve'], 'it starts the daemon')
  const post = /curl -X POST -H '([^']+)' --data-binary '([^']+)' '([^']+)'/.exec(quickStart)
  t.ok(post, 'it posts an event with curl')
  const [, header, body, url] = post!
  const pixel = /curl '([^']+\/i\?[^']*)'/.exec(quickStart)![1]!

  const cwd = tempDir(t)
  // The README's daemon listens on :8080; the test uses a free port through the same flag's variable.
  const serve = spawnNode(t, [BIN, ...serveArgs], { cwd, env: { LOGGING_SYSTEM_PORT: '0', LOGGING_SYSTEM_HOST: '127.0.0.1' } })
  const { port } = await serve.waitForJson<{ port: number }>((line) => line['msg'] === 'listening')
  const at = (address: string) => address.replace('http://localhost:8080', `http://127.0.0.1:${port}`)
  const [name, value] = header!.split(/:\s*/)
  const posted = await request(at(url!), { method: 'POST', headers: { [name!]: value! }, body })
  t.equal(posted.statusCode, 200, 'the event post is answered 200')
  await posted.body.dump()
  const gif = await request(at(pixel))
  t.equal(gif.headers['content-type'], 'image/gif')
  await gif.body.dump()
  t.equal(await serve.stop('SIGINT'), 0, 'Ctrl-C writes the last batch and exits 0')

  const run = promisify(execFile)
  const requests = await run(process.execPath, [BIN, ...commands[0]!], { cwd })
  t.equal(requests.stdout.trim().split('\n').length, 2, 'replay: the two logged requests')
  const events = await run(process.execPath, [BIN, ...commands[1]!], { cwd })
  const lines = events.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>)
  t.equal(lines.length, 1, 'replay --output events: the one event')
  t.match(lines[0], { bucket: 'demo', key: 'user-1:signup', type: 'signup', clientTime: 1764000000000 })
  // The value as an object, or as its exact JSON text.
  const logged = lines[0]!['value']
  t.same(typeof logged === 'string' ? JSON.parse(logged) : logged, { plan: 'free' })

  // The EventServer tails the same batches into ./events.duckdb and serves the event.
  t.same(commands[2]!.slice(0, 1), ['events'], 'then the EventServer')
  const eventsServer = spawnNode(t, [BIN, ...commands[2]!], { cwd, env: { LOGGING_SYSTEM_EVENTS_PORT: '0', LOGGING_SYSTEM_EVENTS_HOST: '127.0.0.1' } })
  const { url: eventsUrl } = await eventsServer.waitForJson<{ url: string }>((line) => line['msg'] === 'EventServer listening')
  const query = /curl '(http:\/\/localhost:8090\/events\.json[^']*)'/.exec(quickStart)![1]!.replace('http://localhost:8090', eventsUrl)
  let stored: Array<Record<string, unknown>> = []
  for (let attempt = 0; attempt < 100 && stored.length === 0; attempt++) {
    const res = await request(query)
    stored = ((await res.body.json()) as { events: Array<Record<string, unknown>> }).events
    if (stored.length === 0) await new Promise((resolve) => setTimeout(resolve, 100))
  }
  t.equal(stored.length, 1, 'the EventServer serves the logged event')
  t.match(stored[0], { key: 'user-1:signup', type: 'signup', value: { plan: 'free' }, clientTime: 1764000000000 })
  t.equal(await eventsServer.stop('SIGTERM'), 0)
})
