import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'

t.test('the example runs', async (t) => {
  const example = fileURLToPath(new URL('../examples/dev-server-client.js', import.meta.url))
  const { stdout } = await promisify(execFile)(process.execPath, [example])
  t.match(stdout, /^signup "[0-9a-f-]{36}" \{"plan":"free"\}$/m)
  t.match(stdout, /^purchase "order-1001" \{"amountCents":1299\}$/m)
})
