/**
 * The admin endpoints, on a port of their own so nothing here is logged as
 * traffic: GET /healthz (alive), GET /readyz (503 while the sink fails or the
 * backlog is over its limit), GET /metrics (Prometheus text).
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { LoggingServer } from '../servers/logging-server.js'
import { createLoggingMetrics, type LoggingMetrics } from './metrics.js'

export interface AdminServer {
  server: Server
  metrics: LoggingMetrics
  listen(port: number, host?: string): Promise<AddressInfo>
  close(): Promise<void>
}

/** What /readyz answers: 200 when ready, else 503; `body` is added to the JSON answer. */
export type Readiness = () => { ready: boolean; body?: Record<string, unknown> }

/** Anything with Prometheus text to show on /metrics. */
export interface MetricsSource {
  render(): Promise<string>
  contentType: string
}

export function createAdminServer(logging: LoggingServer, metrics: LoggingMetrics = createLoggingMetrics(logging)): AdminServer {
  const readiness: Readiness = () => {
    const status = logging.status()
    return {
      ready: logging.ready,
      body: {
        ...(status.sinkFailing ? { reason: 'the sink is failing' } : {}),
        ...(status.unavailable ? { reason: status.unavailable } : {}),
        backlogBytes: status.backlogBytes,
      },
    }
  }
  return { ...createAdminEndpoints(readiness, metrics), metrics }
}

/** The admin endpoints for any server: its readiness and its metrics (the EventServer uses this too). */
export function createAdminEndpoints(readiness: Readiness, metrics: MetricsSource): Omit<AdminServer, 'metrics'> {
  const json = (status: number, body: unknown) => ({ status, type: 'application/json', text: JSON.stringify(body) + '\n' })
  const server = createServer((req, res) => {
    void (async () => {
      const path = (req.url ?? '/').split('?')[0]
      let answer: { status: number; type: string; text: string }
      if (req.method !== 'GET' && req.method !== 'HEAD') answer = json(405, { error: 'method not allowed; use GET' })
      else if (path === '/healthz') answer = json(200, { status: 'alive' })
      else if (path === '/readyz') {
        const { ready, body } = readiness()
        answer = json(ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', ...body })
      } else if (path === '/metrics') answer = { status: 200, type: metrics.contentType, text: await metrics.render() }
      else answer = json(404, { error: `no such endpoint ${path}; try /healthz, /readyz or /metrics` })
      res.writeHead(answer.status, { 'content-type': answer.type, 'cache-control': 'no-store' }).end(answer.text)
    })().catch((err: Error) => res.writeHead(500).end(`${err.message}\n`))
  })
  return {
    server,
    listen(port, host) {
      return new Promise((resolve, reject) => {
        server.once('error', reject)
        server.listen(port, host, () => resolve(server.address() as AddressInfo))
      })
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
    },
  }
}
