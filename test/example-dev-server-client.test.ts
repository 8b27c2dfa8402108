import t from 'tap'
import { request } from 'undici'
import { fileURLToPath } from 'node:url'
import { spawnNode } from './helpers/spawn.js'

const example = fileURLToPath(new URL('../examples/dev-server-client.js', import.meta.url))

t.test('the example prints the events and keeps its live page up until Ctrl-C', async (t) => {
  const child = spawnNode(t, [example])
  let output = ''
  child.process.stdout!.on('data', (data) => (output += data))
  while (!/live page: (\S+)/.test(output)) await new Promise((resolve) => setTimeout(resolve, 50))
  t.match(output, /^signup "[0-9a-f-]{36}" \{"plan":"free"\}$/m)
  t.match(output, /^purchase "order-1001" \{"amountCents":1299\}$/m)
  const page = /live page: (\S+)/.exec(output)![1]!
  const res = await request(page)
  t.equal(res.statusCode, 200, 'the printed URL answers')
  t.match(await res.body.text(), /<html/i)
  t.equal(await child.stop('SIGINT'), 0, 'Ctrl-C stops it cleanly')
})

t.test('with --exit it stops at once', async (t) => {
  const child = spawnNode(t, [example, '--exit'])
  t.equal(await child.exited, 0)
  t.match(child.output(), /^purchase "order-1001"/m)
})
