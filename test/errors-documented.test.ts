// Every stable error code is documented in the README, and every documented code exists.
import t from 'tap'
import { readFileSync } from 'node:fs'

t.test('error codes in src/errors.ts and README.md match', async (t) => {
  const source = readFileSync(new URL('../src/errors.ts', import.meta.url), 'utf8')
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
  const union = source.slice(source.indexOf('export type ErrorCode'), source.indexOf('export class'))
  const codes = [...union.matchAll(/'(LS_[A-Z_0-9]+)'/g)].map((m) => m[1]!)
  t.ok(codes.length >= 6, `${codes.length} codes declared`)
  const section = readme.slice(readme.indexOf('## Error codes'))
  const documented = [...section.matchAll(/^\| `(LS_[A-Z_0-9]+)` \|/gm)].map((m) => m[1]!)
  t.same([...documented].sort(), [...codes].sort())
})
