// Every flag of the export, forward and dead-letters commands, and every
// built-in processor kind, is documented on its page under docs/.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { command as deadLetters } from '../src/cli/dead-letters.js'
import { command as exportCommand } from '../src/cli/export.js'
import { command as forward } from '../src/cli/forward.js'
import { envNameOf } from '../src/cli/command-line.js'
import { BUILT_IN_PROCESSORS } from '../src/processors/registry.js'

const page = (name: string) => readFileSync(new URL(`../docs/${name}`, import.meta.url), 'utf8')

for (const [command, doc] of [[exportCommand, 'export.md'], [forward, 'forwarding.md'], [deadLetters, 'forwarding.md']] as const) {
  t.test(`logging-system ${command.name}: every flag in docs/${doc}`, async (t) => {
    const text = page(doc)
    for (const flag of command.flags) {
      t.ok(text.includes(`\`--${flag.name}\``), `--${flag.name}`)
      const env = envNameOf(flag, command)
      // The store flags share one row per page: the env name is written out or abbreviated with "...".
      t.ok(text.includes(env) || text.includes(env.replace(/^.*_(CLICKHOUSE)$/, '..._$1')), env)
    }
  })
}

t.test('every built-in processor kind in docs/processors.md', async (t) => {
  const text = page('processors.md')
  for (const kind of BUILT_IN_PROCESSORS) t.ok(text.includes(`| \`${kind.kind}\` |`), kind.kind)
})
