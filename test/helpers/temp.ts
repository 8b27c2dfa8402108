import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A fresh temp directory, removed after the test. */
export function tempDir(t: { teardown(fn: () => void): void }, name = 'ls-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), name))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}
