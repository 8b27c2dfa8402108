// A minimal fastify POST route: body read as a buffer, answers OK.
import Fastify from 'fastify'

const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 })
app.removeAllContentTypeParsers()
app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body))
app.post('/*', async (_request, reply) => {
  reply.type('text/plain')
  return 'OK\n'
})
const address = await app.listen({ port: 0, host: '127.0.0.1' })
console.log(JSON.stringify({ msg: 'listening', pid: process.pid, port: Number(new URL(address).port) }))
process.on('SIGTERM', () => app.close().then(() => process.exit(0)))
