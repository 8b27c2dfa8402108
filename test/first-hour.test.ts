// A new user's first hour: a bad sink or a busy port is one clear line and a documented exit
// code (not a stack trace, not 200s for requests that cannot be stored, not a restart loop),
// replay has its own environment, `| head` ends quietly, log lines have one pid.
import t from 'tap'
import { spawn } from 'node:child_process'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { encodeReqData, encodeReqEnd, formatObjectKey } from '../src/index.js'
import { main } from '../src/cli/main.js'
import { captureIo } from './helpers/cli-io.js'
import { startS3rver } from './helpers/s3rver.js'
import { spawnNode } from './helpers/spawn.js'
import { tempDir } from './helpers/temp.js'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'

const BIN = new URL('../bin/logging-system.js', import.meta.url).pathname

/** stderr without blank lines. */
const linesOf = (text: string) => text.split('\n').filter((line) => line.trim() !== '')
const stderrOf = (output: string) => linesOf(output).filter((line) => !line.startsWith('{'))

t.test('an unwritable --dir: refused at start with one line and exit 3; --skip-sink-check starts anyway', async (t) => {
  const cwd = tempDir(t)
  writeFileSync(join(cwd, 'blocker'), 'a file where the directory should be')
  const child = spawnNode(t, [BIN, 'serve', '--port', '0', '--host', '127.0.0.1', '--dir', 'blocker/batches'], { cwd })
  t.equal(await child.exited, 3, 'exit 3: the sink is not usable')
  const errors = stderrOf(child.output())
  t.equal(errors.length, 1, `one line on stderr: ${errors.join(' | ')}`)
  t.match(errors[0], /^logging-system serve: dir:blocker\/batches cannot store batches: a file is in the way .*--skip-sink-check/)
  t.notMatch(child.output(), /\n\s+at /, 'no stack trace')

  const anyway = spawnNode(t, [BIN, 'serve', '--port', '0', '--host', '127.0.0.1', '--dir', 'blocker/batches', '--skip-sink-check'], { cwd })
  await anyway.waitForJson((line) => line['msg'] === 'listening')
  t.equal(await anyway.stop('SIGTERM'), 0, 'with --skip-sink-check it starts (and stops cleanly with nothing to store)')
})

t.test('S3: a missing bucket and a missing region are each one line that does not repeat itself', async (t) => {
  const s3 = await startS3rver('present')
  t.teardown(() => s3.close())
  // No region anywhere (undefined drops a variable from the child's environment), credentials given.
  const env = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: undefined, AWS_DEFAULT_REGION: undefined, AWS_ENDPOINT_URL: undefined, AWS_ENDPOINT_URL_S3: undefined, AWS_PROFILE: undefined, AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent', AWS_EC2_METADATA_DISABLED: 'true' }
  const missing = spawnNode(t, [BIN, 'serve', '--port', '0', '--host', '127.0.0.1', '--s3-bucket', 'absent', '--s3-endpoint', s3.endpoint], { cwd: tempDir(t), env })
  t.equal(await missing.exited, 3)
  const bucketErrors = stderrOf(missing.output())
  t.equal(bucketErrors.length, 1, bucketErrors.join(' | '))
  t.match(bucketErrors[0], /s3:\/\/absent cannot store batches: no such bucket \(HTTP 404\)/)

  const noRegion = spawnNode(t, [BIN, 'serve', '--port', '0', '--host', '127.0.0.1', '--s3-bucket', 'present'], { cwd: tempDir(t), env })
  t.equal(await noRegion.exited, 3)
  const regionErrors = stderrOf(noRegion.output())
  t.equal(regionErrors.length, 1, regionErrors.join(' | '))
  t.match(regionErrors[0], /Region is missing/)
  t.notMatch(regionErrors[0], /Region is missing.*Region is missing/, 'said once')
})

t.test('port in use: one line and exit 4, from one process and from a cluster (the default, --workers auto), which stops instead of restarting', async (t) => {
  const busy = createServer()
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve))
  t.teardown(() => busy.close())
  const port = String((busy.address() as AddressInfo).port)
  const expected = new RegExp(`^logging-system serve: port ${port} on 127\\.0\\.0\\.1 is already in use; choose another with --port$`)
  for (const workers of [['--workers', '1'], [], ['--workers', '2']]) {
    const child = spawnNode(t, [BIN, 'serve', ...workers, '--port', port, '--host', '127.0.0.1'], { cwd: tempDir(t) })
    const how = workers.length ? workers.join(' ') : 'default workers'
    t.equal(await child.exited, 4, `${how}: exit 4, cannot listen`)
    const errors = stderrOf(child.output())
    t.equal(errors.length, 1, `${how}: one line on stderr: ${errors.join(' | ')}`)
    t.match(errors[0], expected, how)
    t.notMatch(child.output(), /restarting it/, `${how}: no worker is restarted`)
    for (const line of linesOf(child.output()).filter((line) => line.startsWith('{'))) {
      if ((line.match(/"pid":/g) ?? []).length > 1) t.fail(`a log line with two pid keys: ${line}`)
    }
  }
})

t.test('replay reads its own variables: a bucket exported for serve does not redirect replay --dir', async (t) => {
  const io = captureIo({ LOGGING_SYSTEM_S3_BUCKET: 'for-serve' })
  const dir = tempDir(t)
  t.equal(await main(['replay', '--dir', dir], io), 0, 'LOGGING_SYSTEM_S3_BUCKET is serve\'s, not replay\'s')
  const conflicting = captureIo({ LOGGING_SYSTEM_REPLAY_S3_BUCKET: 'for-replay' })
  t.equal(await main(['replay', '--dir', dir], conflicting), 2)
  t.match(conflicting.err(), /--dir and --s3-bucket \(from LOGGING_SYSTEM_REPLAY_S3_BUCKET\) exclude each other/, 'the message names where the bucket came from')
})

t.test('replay | head: the closed pipe ends the output without "write EPIPE"', async (t) => {
  const dir = tempDir(t)
  const frames = Array.from({ length: 5000 }, (_, i) => [encodeReqData(i + 1, 1, Buffer.from(`body ${i}`.repeat(20))), encodeReqEnd({ reqId: i + 1, serverTime: 1, ip: '', contentType: '', path: '/', method: 'POST', headers: {}, outcome: 0 })]).flat()
  const key = formatObjectKey({ startTime: Date.UTC(2026, 10, 25), serverToken: '4hTqA3xP', randomToken: 'RandomTk', batchNumber: 1 })
  mkdirSync(dirname(join(dir, key)), { recursive: true })
  writeFileSync(join(dir, key), gzipSync(Buffer.concat(frames)))
  const child = spawn(process.execPath, [BIN, 'replay', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (data) => (stderr += data))
  // `head -n 1`: read one chunk, then close the pipe.
  await new Promise((resolve) => child.stdout.once('data', resolve))
  child.stdout.destroy()
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  t.notMatch(stderr, /EPIPE/, 'no EPIPE message')
  t.notMatch(stderr, /\n\s+at /, 'no stack trace')
  t.equal(code, 0)
})
