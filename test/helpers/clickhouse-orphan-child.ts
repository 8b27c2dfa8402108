// Starts a clickhouse-server through the helper and never closes it: the helper test kills this process
// with -9 and checks that the server and its folder go away anyway. Prints {"pid":N,"dir":"..."}.
import { startClickHouse } from './clickhouse-server.js'

const server = await startClickHouse()
process.stdout.write(JSON.stringify({ pid: server.pid, dir: server.dir }) + '\n')
setInterval(() => {}, 1000)
