// Backpressure seen from the client: while zlib is held back, the server stops reading
// request bodies, so a client cannot push more than the socket buffers and the
// compression backlog; once zlib goes on, the body arrives whole.
import t from 'tap'
import * as zlib from 'node:zlib'
import { connect } from 'node:net'
import type { LoggingServer as LoggingServerClass } from '../src/index.js'
import { readLoggedRequests } from './helpers/batches.js'
import { tempDir } from './helpers/temp.js'

const BODY_BYTES = 48 * 1024 * 1024
const CHUNK = 1024 * 1024

t.test('a client cannot push a body faster than zlib takes it', async (t) => {
  // A gzip whose compression waits for the gate: the compression backlog fills and stays full.
  let openGate!: () => void
  const gate = new Promise<void>((resolve) => (openGate = resolve))
  const gatedZlib = {
    ...zlib,
    createGzip: (options?: zlib.ZlibOptions) => {
      const gzip = zlib.createGzip(options) as zlib.Gzip & { _transform: (chunk: Buffer, encoding: string, callback: () => void) => void }
      const transform = gzip._transform.bind(gzip)
      gzip._transform = (chunk, encoding, callback) => void gate.then(() => transform(chunk, encoding, callback))
      return gzip
    },
  }
  // Mocks reach only the module loaded: the batch writer gets the gated zlib, the server that writer.
  const batchWriter = await t.mockImport('../src/batch/batch-writer.js', { 'node:zlib': gatedZlib })
  const { LoggingServer } = await t.mockImport<typeof import('../src/servers/logging-server.js')>('../src/servers/logging-server.js', {
    '../src/batch/batch-writer.js': batchWriter,
  })
  const directory = tempDir(t)
  const server: LoggingServerClass = new LoggingServer({ directory, compressionBacklogBytes: 256 * 1024, maxBodyBytes: BODY_BYTES, batchSeconds: 60 })
  const { port } = await server.listen(0, '127.0.0.1')
  const socket = connect(port, '127.0.0.1')
  await new Promise((resolve) => socket.once('connect', resolve))
  let answer = ''
  socket.on('data', (data) => (answer += data))
  const answered = new Promise<void>((resolve) => socket.once('end', () => resolve()))
  socket.write(`POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: ${BODY_BYTES}\r\nConnection: close\r\n\r\n`)
  const chunk = (i: number) => Buffer.alloc(CHUNK, i % 251)

  // Write until the socket stops draining (the server stopped reading) or the whole body is out.
  let accepted = 0
  let next = 0
  while (next < BODY_BYTES / CHUNK) {
    const more = socket.write(chunk(next++))
    accepted += CHUNK
    if (more) continue
    const drained = await Promise.race([
      new Promise<boolean>((resolve) => socket.once('drain', () => resolve(true))),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 1000)),
    ])
    if (!drained) break
  }
  t.ok(accepted < BODY_BYTES / 2, `with zlib held, the server took only ${accepted / CHUNK} MiB of ${BODY_BYTES / CHUNK} MiB`)

  openGate()
  while (next < BODY_BYTES / CHUNK) if (!socket.write(chunk(next++))) await new Promise((resolve) => socket.once('drain', resolve))
  await answered
  t.match(answer, /^HTTP\/1\.1 200 /, 'answered once the body arrived')
  await server.close()
  const { requests } = await readLoggedRequests(directory)
  const body = requests[0]?.body
  t.equal(body?.byteLength, BODY_BYTES)
  t.ok(body && Array.from({ length: BODY_BYTES / CHUNK }, (_, i) => body.subarray(i * CHUNK, (i + 1) * CHUNK).equals(chunk(i))).every(Boolean), 'byte-exact')
})
