// The test helper that runs clickhouse-server as a child process: a taken port
// means another try on fresh ports, a failed start says why with the server's
// log, and close() leaves no process and no folder behind.
import t from 'tap'
import { existsSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { clickhouseMissing, clickhouseSkip, ping, startClickHouse } from './helpers/clickhouse-server.js'

const skip = clickhouseSkip()
const missing = clickhouseMissing()

function listen(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve(server))
  })
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

if (skip) {
  t.test('clickhouse-server helper', { skip }, () => {})
} else if (missing) {
  t.fail(`clickhouse-server is required under CI: ${missing}`)
} else {
  t.test('a port taken before the server binds it: started again on fresh ports', async (t) => {
    const squatter = await listen()
    t.teardown(() => squatter.close())
    const taken = (squatter.address() as { port: number }).port
    const spare = [await listen(), await listen()]
    const ports = spare.map((s) => (s.address() as { port: number }).port)
    await Promise.all(spare.map((s) => new Promise((resolve) => s.close(resolve))))
    const server = await startClickHouse(t, { ports: { http: ports[0]!, tcp: taken, interserver: ports[1]! } })
    t.not(server.ports.tcp, taken, 'not on the taken port')
    t.equal(await ping(server.url), 'Ok.\n')
  })

  t.test('a server that cannot start: the error carries its log', async (t) => {
    // 192.0.2.1 (TEST-NET-1) is no address of this machine: listening on it fails.
    await t.rejects(startClickHouse(t, { extraConfig: '<listen_host>192.0.2.1</listen_host>' }), /clickhouse-server did not start[\s\S]*192\.0\.2\.1/)
  })

  t.test('close() stops the process and removes its folder', async (t) => {
    const server = await startClickHouse()
    t.ok(isRunning(server.pid))
    t.ok(existsSync(server.dir))
    await server.close()
    t.notOk(isRunning(server.pid), 'process gone')
    t.notOk(existsSync(server.dir), 'folder gone')
    t.equal(await ping(server.url), undefined, 'nothing answers on its port')
  })
}
