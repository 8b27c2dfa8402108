// Fastify plugin: every request of the instance is logged, unparsed, while
// fastify parses bodies as usual. Closing fastify writes the last batch.
//   PORT=8080 BATCH_DIR=./batches node examples/fastify.js
import Fastify from 'fastify'
import { LoggingServer, fastifyLogging } from 'logging-system'

const app = Fastify()
await app.register(fastifyLogging, { server: new LoggingServer({ directory: process.env.BATCH_DIR ?? './batches' }) })
app.post('/orders', async (request) => ({ received: request.body }))
app.get('/health', async () => 'ok')

await app.listen({ port: Number(process.env.PORT ?? 8080), host: '127.0.0.1' })
console.log(JSON.stringify({ listening: app.server.address().port }))

process.once('SIGTERM', () => {
  app.close().then(() => process.exit(0), (err) => { console.error(err); process.exit(1) })
})
