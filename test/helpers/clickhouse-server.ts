/**
 * A real ClickHouse server (Debian's `clickhouse-server`, 18.16 here; any later
 * release works too) started as a child process for the tests: its own
 * config.xml and users.xml, data folder under a temp dir, free loopback ports
 * (http, tcp, interserver), ready once its own log says so and /ping answers,
 * stopped with SIGTERM (SIGKILL after a timeout) and its folder removed.
 * Also a two-server, two-shard cluster (remote_servers on both, one replica
 * per shard), the smallest real scale-out.
 *
 * Ports are found by binding port 0 and letting go, so another process can
 * take one in between: a server that exits with "Address already in use" is
 * started again on new ports (a few times). Any other startup failure is
 * thrown with the server's own log. Missing binary: `clickhouseMissing()`
 * says why; tests fail under CI and skip elsewhere (as the Chromium ones do).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { get } from 'node:http'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const CLICKHOUSE_SERVER_PATH = process.env.CLICKHOUSE_SERVER_PATH ?? '/usr/sbin/clickhouse-server'

/** How long a server may take to become ready (a loaded 2-core machine; it usually takes 0.2 s). */
const STARTUP_TIMEOUT_MS = 60_000
/** SIGTERM first; SIGKILL when it has not exited after this long (18.16 takes 2-3 s, once 10 s). */
const STOP_TIMEOUT_MS = 20_000
/** New ports and a new try when a port was taken between choosing it and the server binding it. */
const PORT_RACE_ATTEMPTS = 5

/** Why ClickHouse tests cannot run here, or undefined when they can. */
export function clickhouseMissing(): string | undefined {
  return existsSync(CLICKHOUSE_SERVER_PATH) ? undefined : `${CLICKHOUSE_SERVER_PATH} not found; install it with: apt-get install -y clickhouse-server`
}

/**
 * The `skip` option for a ClickHouse test: a skip with the reason when the
 * server is missing and CI is not set; false otherwise (under CI the test runs
 * and fails through `requireClickHouse`).
 */
export function clickhouseSkip(): string | false {
  const missing = clickhouseMissing()
  return missing !== undefined && !process.env.CI ? `ClickHouse test skipped: ${missing}` : false
}

export interface ClickHousePorts {
  http: number
  tcp: number
  interserver: number
}

export interface ClickHouseServer {
  /** `http://127.0.0.1:<http port>` */
  url: string
  ports: ClickHousePorts
  /** Its folder: config, data, logs. */
  dir: string
  pid: number
  /** Its log so far (information level and up). */
  log(): string
  /** SIGTERM, SIGKILL after a timeout; resolves when it has exited. The folder stays. */
  stop(): Promise<void>
  /** Stops it and starts it again on the same folder and ports. */
  restart(): Promise<void>
  /** Stops it and removes its folder. */
  close(): Promise<void>
}

export interface ClickHouseCluster {
  /** The name in remote_servers, for `Distributed(...)` and the store's `cluster` option. */
  name: string
  /** One server per shard, shard 1 first. */
  nodes: ClickHouseServer[]
  close(): Promise<void>
}

interface Teardown {
  teardown(fn: () => unknown): void
}

export interface StartOptions {
  /** Ports for the first try (later tries, after a port was taken, get fresh ones). Default: free ports. */
  ports?: ClickHousePorts
  /** More XML inside the config's root element. Default: none. */
  extraConfig?: string
}

/** Starts one server; with `t`, it is closed in t's teardown. */
export async function startClickHouse(t?: Teardown, options: StartOptions = {}): Promise<ClickHouseServer> {
  const server = await withFreshPorts(1, ([ports]) => launch(ports!, options.extraConfig ?? ''), options.ports && [options.ports])
  t?.teardown(() => server.close())
  return server
}

/**
 * Starts two servers as a two-shard cluster named `name`: each has the same
 * remote_servers entry (shard 1 = the first server's tcp port, shard 2 = the
 * second's), so a Distributed table on either spreads rows over both.
 */
export async function startClickHouseCluster(t?: Teardown, name = 'two_shards'): Promise<ClickHouseCluster> {
  const nodes = await withFreshPorts(2, async (ports) => {
    const remoteServers = clusterXml(name, ports.map((p) => p.tcp))
    const started: ClickHouseServer[] = []
    try {
      for (const p of ports) started.push(await launch(p, remoteServers))
    } catch (error) {
      await Promise.all(started.map((server) => server.close()))
      throw error
    }
    return started
  })
  const cluster: ClickHouseCluster = { name, nodes, close: async () => void (await Promise.all(nodes.map((node) => node.close()))) }
  t?.teardown(() => cluster.close())
  return cluster
}

/** Thrown by launch() when a port was taken: the caller tries again with new ones. */
class PortTakenError extends Error {}

async function withFreshPorts<T>(servers: number, start: (ports: ClickHousePorts[]) => Promise<T>, firstPorts?: ClickHousePorts[]): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const free = await freePorts(servers * 3)
    const fresh = Array.from({ length: servers }, (_, i) => ({ http: free[i * 3]!, tcp: free[i * 3 + 1]!, interserver: free[i * 3 + 2]! }))
    const ports = attempt === 1 && firstPorts ? firstPorts : fresh
    try {
      return await start(ports)
    } catch (error) {
      if (!(error instanceof PortTakenError) || attempt >= PORT_RACE_ATTEMPTS) throw error
    }
  }
}

/** Distinct free loopback ports: all held open at once so none is handed out twice, then released. */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () =>
      new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
        const server = createServer()
        server.once('error', reject)
        server.listen(0, '127.0.0.1', () => resolve(server))
      }),
    ),
  )
  const ports = servers.map((server) => (server.address() as { port: number }).port)
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))))
  return ports
}

function clusterXml(name: string, tcpPorts: number[]): string {
  const shards = tcpPorts.map((port) => `<shard><replica><host>127.0.0.1</host><port>${port}</port></replica></shard>`).join('')
  return `<remote_servers><${name}>${shards}</${name}></remote_servers>`
}

/** Every server this process started and has not stopped: killed if the test process exits without closing them. */
const running = new Set<ChildProcess>()
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

async function launch(ports: ClickHousePorts, extraConfig: string): Promise<ClickHouseServer> {
  const missing = clickhouseMissing()
  if (missing) throw new Error(missing)
  const dir = mkdtempSync(join(tmpdir(), 'ls-clickhouse-'))
  for (const sub of ['data', 'tmp', 'user_files', 'format_schemas']) mkdirSync(join(dir, sub))
  writeFileSync(join(dir, 'config.xml'), configXml(dir, ports, extraConfig))
  writeFileSync(join(dir, 'users.xml'), USERS_XML)
  const logPath = join(dir, 'server.log')
  const log = (): string => {
    try {
      return readFileSync(logPath, 'utf8')
    } catch {
      return ''
    }
  }
  const url = `http://127.0.0.1:${ports.http}`
  let current = spawnServer(dir)
  const server: ClickHouseServer = {
    url,
    ports,
    dir,
    get pid() {
      return current.child.pid ?? -1
    },
    log,
    stop: () => current.stop(),
    async restart() {
      await current.stop()
      const logged = log().length
      current = spawnServer(dir)
      await ready(logged)
    },
    async close() {
      await current.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
  /** Ready, or a clear error with the server's log (PortTakenError when a port was taken). */
  const ready = async (logFrom: number): Promise<void> => {
    try {
      await waitUntilReady(url, current.failed, () => log().slice(logFrom))
    } catch (error) {
      await current.stop().catch(() => {})
      const text = `${log().slice(logFrom)}\n${current.output()}`
      if (/Address already in use/.test(text)) throw new PortTakenError(`a port of ${JSON.stringify(ports)} was taken`)
      throw new Error(`clickhouse-server did not start: ${(error as Error).message}\n--- its log and output ---\n${text.slice(-8000)}`)
    }
  }
  try {
    await ready(0)
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
  return server
}

interface ServerProcess {
  child: ChildProcess
  /** Why it is not running (spawn error, exit), or undefined while it runs. */
  failed(): Error | string | undefined
  output(): string
  stop(): Promise<void>
}

function spawnServer(dir: string): ServerProcess {
  const child = spawn(CLICKHOUSE_SERVER_PATH, [`--config-file=${join(dir, 'config.xml')}`], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
  running.add(child)
  // A server left running must not keep the test process alive; the exit hook kills it.
  child.unref()
  ;(child.stdout as unknown as { unref(): void }).unref()
  ;(child.stderr as unknown as { unref(): void }).unref()
  let output = ''
  child.stdout!.on('data', (data: Buffer) => (output += data))
  child.stderr!.on('data', (data: Buffer) => (output += data))
  let spawnError: Error | undefined
  child.once('error', (error) => (spawnError = error))
  const exited = new Promise<void>((resolve) =>
    child.once('close', () => {
      running.delete(child)
      resolve()
    }),
  )
  const hasExited = () => child.exitCode !== null || child.signalCode !== null || spawnError !== undefined
  let stopped: Promise<void> | undefined
  return {
    child,
    output: () => output,
    failed: () => spawnError ?? (hasExited() ? `exited (${child.exitCode ?? child.signalCode})` : undefined),
    stop: () =>
      (stopped ??= (async () => {
        if (spawnError) return
        if (!hasExited()) {
          child.kill('SIGTERM')
          const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS)
          await exited
          clearTimeout(timer)
        } else {
          await exited
        }
      })()),
  }
}

/**
 * Ready when its own log says "Ready for connections" (so the ports are ours,
 * not another process's) and GET /ping answers "Ok.".
 */
async function waitUntilReady(url: string, failed: () => Error | string | undefined, log: () => string): Promise<void> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS
  for (;;) {
    const failure = failed()
    if (failure) throw failure instanceof Error ? failure : new Error(failure)
    if (log().includes('Ready for connections')) {
      if ((await ping(url))?.startsWith('Ok.')) return
    }
    if (Date.now() > deadline) throw new Error(`not ready after ${STARTUP_TIMEOUT_MS} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/**
 * GET /ping on a connection of its own, closed after: a kept-alive socket
 * would make the server wait for it at shutdown (several seconds).
 */
export function ping(url: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const request = get(`${url}/ping`, { agent: false, headers: { connection: 'close' } }, (response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => (body += chunk))
      response.on('end', () => resolve(response.statusCode === 200 ? body : undefined))
      response.on('error', () => resolve(undefined))
    })
    request.on('error', () => resolve(undefined))
    request.setTimeout(5_000, () => request.destroy())
  })
}

// What 18.16 needs to start (leave one out and it refuses, naming it): a logger,
// mark_cache_size, the default profile and the user's quota. Caches are kept small.
function configXml(dir: string, ports: ClickHousePorts, extraConfig: string): string {
  return `<?xml version="1.0"?>
<yandex>
  <logger>
    <level>information</level>
    <log>${dir}/server.log</log>
    <errorlog>${dir}/server.err.log</errorlog>
    <console>0</console>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>${ports.http}</http_port>
  <tcp_port>${ports.tcp}</tcp_port>
  <interserver_http_port>${ports.interserver}</interserver_http_port>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <format_schema_path>${dir}/format_schemas/</format_schema_path>
  <users_config>${dir}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mark_cache_size>67108864</mark_cache_size>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
  <max_concurrent_queries>100</max_concurrent_queries>
  ${extraConfig}
</yandex>
`
}

const USERS_XML = `<?xml version="1.0"?>
<yandex>
  <profiles>
    <default>
      <max_memory_usage>2000000000</max_memory_usage>
    </default>
  </profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas>
    <default></default>
  </quotas>
</yandex>
`
