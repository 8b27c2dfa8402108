// LoggingServer.handleRequest inside a plain node:http server (embedding, option 2 of the README).
// Prints the same JSON lines as `logging-system serve` ("listening", "batch stored").
import { createServer } from 'node:http'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { LoggingServer } from '../../dist/index.js'

const { values } = parseArgs({ options: { dir: { type: 'string' }, 'batch-seconds': { type: 'string', default: '10' } } })
const logger = new LoggingServer({
  directory: join(values.dir, 'batches'),
  unsentDirectory: join(values.dir, 'unsent'),
  batchSeconds: Number(values['batch-seconds']),
})
logger.on('batchStored', ({ batch, durationMs }) => {
  console.log(JSON.stringify({ msg: 'batch stored', time: Date.now(), ms: durationMs, startTime: batch.startTime, events: batch.events, bytes: batch.body.byteLength }))
})
const server = createServer((req, res) => logger.handleRequest(req, res))
server.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ msg: 'listening', pid: process.pid, port: server.address().port }))
})
process.on('SIGTERM', () => {
  server.close()
  server.closeIdleConnections()
  logger.close().then(() => process.exit(0), () => process.exit(1))
})
