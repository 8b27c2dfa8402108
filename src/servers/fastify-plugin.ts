/**
 * Fastify plugin: logs every request of the fastify instance it is registered
 * on while fastify parses bodies as usual, and closes the LoggingServer
 * (writing its last batch) when fastify closes.
 */
import fp from 'fastify-plugin'
import type { FastifyPluginAsync } from 'fastify'
import type { LoggingServer } from './logging-server.js'

export interface FastifyLoggingOptions {
  /** The LoggingServer that captures and stores the requests. Required. */
  server: LoggingServer
  /** Close the LoggingServer in fastify's onClose. Default: true. */
  closeWithFastify?: boolean
}

const plugin: FastifyPluginAsync<FastifyLoggingOptions> = async (fastify, options) => {
  const { server } = options
  // onRequest runs before fastify reads the body, so every chunk is seen.
  fastify.addHook('onRequest', async (request) => {
    server.observe(request.raw)
  })
  if (options.closeWithFastify ?? true) {
    fastify.addHook('onClose', async () => {
      await server.close()
    })
  }
}

export const fastifyLogging = fp(plugin, { fastify: '5.x', name: 'logging-system' })
