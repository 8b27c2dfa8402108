// The key grammar of formats/batch-v1.md §1.1, from its one pure function.
import t from 'tap'
import { BASE58_ALPHABET, formatDayPrefix, formatObjectKey, normalizeKeyPrefix, parseObjectKey, randomToken } from '../src/index.js'

t.test('formatObjectKey writes exactly the grammar, in UTC', async (t) => {
  const startTime = Date.UTC(2011, 8, 26, 19, 27, 39, 638)
  const parts = { startTime, serverToken: '4hTqA3xP', randomToken: 'Kz8mNc2Q', batchNumber: 1 }
  t.equal(formatObjectKey(parts), 'v1/2011-09-26/19-27-39-638-Z-4hTqA3xP-Kz8mNc2Q-1-v1.gz')
  t.equal(formatObjectKey({ ...parts, prefix: 'logs/web', batchNumber: 1234 }), 'logs/web/v1/2011-09-26/19-27-39-638-Z-4hTqA3xP-Kz8mNc2Q-1234-v1.gz')
  t.equal(formatObjectKey({ ...parts, prefix: '/logs/', gzipped: false }), 'logs/v1/2011-09-26/19-27-39-638-Z-4hTqA3xP-Kz8mNc2Q-1-v1')
  t.equal(formatObjectKey({ ...parts, startTime: Date.UTC(2024, 0, 2, 3, 4, 5, 6) }), 'v1/2024-01-02/03-04-05-006-Z-4hTqA3xP-Kz8mNc2Q-1-v1.gz', 'zero padded')
  t.equal(formatDayPrefix(startTime, 'p'), 'p/v1/2011-09-26/')
})

t.test('parseObjectKey reads back what formatObjectKey wrote and nothing else', async (t) => {
  for (let i = 0; i < 200; i++) {
    const parts = {
      prefix: i % 2 ? `a/b${i}` : '',
      startTime: Math.floor(Math.random() * Date.UTC(2200, 0)),
      serverToken: randomToken(),
      randomToken: randomToken(),
      batchNumber: 1 + Math.floor(Math.random() * 1e6),
      gzipped: i % 3 !== 0,
    }
    const back = parseObjectKey(formatObjectKey(parts))
    if (JSON.stringify(back) !== JSON.stringify(parts)) t.same(back, parts, formatObjectKey(parts))
  }
  t.pass('200 random keys parsed back to their parts')
  for (const bad of [
    'v1/2011-09-26/19-27-39-638-Z-4hTqA3xP-Kz8mNc2Q-0-v1.gz',
    'v1/2011-09-26/19-27-39-638-Z-4hTqA3x0-Kz8mNc2Q-1-v1.gz',
    'v1/2011-09-26/19-27-39-638-Z-4hTqA3xP-Kz8mNc2Q-1-v1.gz.tmp',
    'v2/2011-09-26/19-27-39-638-Z-4hTqA3xP-Kz8mNc2Q-1-v1.gz',
    'v1/2011-09-26/.19-27-39-638-Z-4hTqA3xP-Kz8mNc2Q-1-v1.gz.1a2b.tmp',
  ]) t.equal(parseObjectKey(bad), undefined, bad)
})

t.test('tokens: 8 base58 characters from crypto randomness', async (t) => {
  const seen = new Set<string>()
  const counts = new Map<string, number>()
  for (let i = 0; i < 5000; i++) {
    const token = randomToken()
    if (token.length !== 8) t.fail(`token ${token} is not 8 characters`)
    seen.add(token)
    for (const char of token) counts.set(char, (counts.get(char) ?? 0) + 1)
  }
  t.ok([...counts.keys()].every((char) => BASE58_ALPHABET.includes(char)), 'only base58 characters')
  t.equal(seen.size, 5000, 'no repeats')
  t.equal(counts.size, 58, 'every character of the alphabet shows up')
  // 40000 characters over 58 symbols: ~690 each; a uniform source stays well within 500..900.
  t.ok([...counts.values()].every((n) => n > 500 && n < 900), 'characters are close to uniform')
})

t.test('key prefixes are normalised and checked', async (t) => {
  t.equal(normalizeKeyPrefix('/a/b/'), 'a/b')
  t.equal(normalizeKeyPrefix(''), undefined)
  t.throws(() => normalizeKeyPrefix('a//b'), { code: 'LS_INVALID_OPTION' })
  t.throws(() => normalizeKeyPrefix('a/../b'), { code: 'LS_INVALID_OPTION' })
})
