// Embedding in a plain node:http server: the app answers its own routes and
// hands everything under /collect/ to the logger, which logs and answers it.
//   PORT=8080 BATCH_DIR=./batches node examples/node-http.js
import { createServer } from 'node:http'
import { LoggingServer } from 'logging-system'

const logger = new LoggingServer({ directory: process.env.BATCH_DIR ?? './batches' })

const server = createServer((req, res) => {
  if (req.url.startsWith('/collect/')) return logger.handleRequest(req, res)
  res.writeHead(200, { 'content-type': 'text/plain' }).end('hello from the app\n')
})

server.listen(Number(process.env.PORT ?? 8080), '127.0.0.1', () => {
  console.log(JSON.stringify({ listening: server.address().port }))
})

process.once('SIGTERM', () => {
  server.close()
  // close() writes the last batch and waits for the sink.
  logger.close().then(() => process.exit(0), (err) => { console.error(err); process.exit(1) })
})
