// Connections at the edges: a client that half-closes after a whole request, SIGTERM while
// ack=s3 answers wait on a dead sink, and slow clients cut at the configured limits.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { join } from 'node:path'
import { BatchReader, DirectorySource, LoggingServer, type Sink } from '../src/index.js'
import { readLoggedRequests } from './helpers/batches.js'
import { tempDir } from './helpers/temp.js'

class DeadSink implements Sink {
  readonly description = 'dead'
  async put(): Promise<void> {
    throw new Error('connect ECONNREFUSED 127.0.0.1:1')
  }
}

/** A raw connection; `answer` resolves with everything the server sent once it closed its side. */
async function rawClient(port: number) {
  const socket: Socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true })
  await new Promise((resolve) => socket.once('connect', resolve))
  let received = ''
  socket.on('data', (data) => (received += data))
  const answer = new Promise<string>((resolve) => {
    socket.once('end', () => resolve(received))
    socket.once('close', () => resolve(received))
  })
  return { socket, answer }
}

const POST = (body: string) => `POST /half HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`

for (const ack of ['spool', 's3'] as const) {
  t.test(`ack=${ack}: a client that half-closes after a whole request gets its answer`, async (t) => {
    const directory = tempDir(t)
    const server = new LoggingServer({ directory, ack, spoolDirectory: tempDir(t), batchSeconds: 0.2, unsentDirectory: tempDir(t) })
    const { port } = await server.listen(0, '127.0.0.1')
    t.teardown(() => server.close().catch(() => {}))
    const { socket, answer } = await rawClient(port)
    socket.end(POST('whole body'))
    t.match(await answer, /^HTTP\/1\.1 200 /, 'answered 200 although the client closed its sending side')
    await server.flush()
    const { requests } = await readLoggedRequests(directory)
    t.same(requests.map((r) => r.body.toString()), ['whole body'], 'logged once')
  })
}

t.test('ack=s3, sink down: SIGTERM (close) answers the waiting clients 503 after saving the batch as unsent', async (t) => {
  const unsentDirectory = tempDir(t)
  const server = new LoggingServer({
    sink: new DeadSink(),
    ack: 's3',
    unsentDirectory,
    closeTimeoutMs: 600,
    retryPolicy: { initialDelayMs: 20, maxDelayMs: 50 },
  })
  const { port } = await server.listen(0, '127.0.0.1')
  const clients = await Promise.all([0, 1, 2].map(() => rawClient(port)))
  clients.forEach(({ socket }, i) => socket.write(POST(`waiting ${i}`)))
  await new Promise((resolve) => setTimeout(resolve, 100))
  await t.rejects(server.close(), { code: 'LS_UNSENT_BATCHES' })
  for (const [i, { answer }] of clients.entries()) {
    t.match(await answer, /^HTTP\/1\.1 503 /, `client ${i} gets 503, not an empty reply`)
  }
  const { requests } = await readLoggedRequests(unsentDirectory)
  t.equal(requests.length, 3, 'the batch holding them is saved in the unsent directory')
})

t.test('slow clients are cut at the configured headers and request timeouts, not at node’s 30 s check', async (t) => {
  // Limits of a fraction of a second: the cut must come long before node's default 30 s check interval.
  const server = new LoggingServer({ directory: tempDir(t), headersTimeoutMs: 400, requestTimeoutMs: 800 })
  const { port } = await server.listen(0, '127.0.0.1')
  t.teardown(() => server.close())
  const cutWithin = async (send: (socket: Socket) => void, boundMs: number) => {
    const { socket, answer } = await rawClient(port)
    send(socket)
    const bound = new Promise<'still open'>((resolve) => setTimeout(() => resolve('still open'), boundMs).unref())
    const result = await Promise.race([answer, bound])
    socket.destroy()
    return result
  }
  // 10 s: far over the 400 ms limit, far under node's 30 s default check.
  t.match(await cutWithin((socket) => socket.write('POST /slow HTTP/1.1\r\nHost: x\r\n'), 10_000), /408|^$/, 'headers never finished: cut')
  t.match(await cutWithin((socket) => socket.write('POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc'), 10_000), /408|^$/, 'body never finished: cut')
})

t.test('a request logged complete and then answered 503 (spool unwritable) is marked so replay skips it', async (t) => {
  const directory = tempDir(t)
  const blocker = join(tempDir(t), 'a-file')
  writeFileSync(blocker, 'not a directory')
  // The spool cannot open a segment under a file: the request is logged, then its commit fails.
  const server = new LoggingServer({ directory, ack: 'spool', spoolDirectory: join(blocker, 'spool') })
  const { port } = await server.listen(0, '127.0.0.1')
  const { socket, answer } = await rawClient(port)
  socket.write(POST('told it failed').replace('Host: x', 'Host: x\r\nConnection: close'))
  t.match(await answer, /^HTTP\/1\.1 503 /, 'the client is told it failed')
  await server.close()
  const reader = new BatchReader({ source: new DirectorySource(directory) })
  const replayed: string[] = []
  for await (const logged of reader.requests()) replayed.push(logged.body.toString())
  t.same(replayed, [], 'replay does not re-deliver it')
  t.same(reader.report.notComplete, { unavailable: 1 }, 'counted as unavailable')
  t.equal(reader.report.requests, 0)
})
