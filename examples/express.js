// Express middleware: every request is logged, unparsed, while the app parses
// and answers it as usual (express.json() still gets the whole body).
//   PORT=8080 BATCH_DIR=./batches node examples/express.js
import express from 'express'
import { LoggingServer } from 'logging-system'

const logger = new LoggingServer({ directory: process.env.BATCH_DIR ?? './batches' })
const app = express()
app.use(logger.middleware())
app.post('/orders', express.json(), (req, res) => res.json({ received: req.body }))
app.get('/health', (req, res) => res.send('ok'))

const server = app.listen(Number(process.env.PORT ?? 8080), '127.0.0.1', () => {
  console.log(JSON.stringify({ listening: server.address().port }))
})

process.once('SIGTERM', () => {
  server.close()
  logger.close().then(() => process.exit(0), (err) => { console.error(err); process.exit(1) })
})
