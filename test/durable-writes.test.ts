// Durability seen at the file-system calls, where SIGKILL tests cannot look (the page cache
// survives a killed process). A "disk" that keeps only what was synced: the spool must fdatasync
// before it acknowledges, the directory sink must write a temp file, sync it, rename it and sync
// the folder, and spool recovery must cut a torn tail.
import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import * as fsPromises from 'node:fs/promises'
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { gunzipSync } from 'node:zlib'
import { decodeBatchV1, encodeReqData, encodeReqEnd, LoggingServer, type Spool as SpoolClass } from '../src/index.js'
import { SPOOL_MAGIC } from '../src/spool/spool.js'
import { tempDir } from './helpers/temp.js'

const end = (reqId: number) => encodeReqEnd({ reqId, serverTime: 7, ip: '', contentType: '', path: '/', method: 'POST', headers: {}, outcome: 0 })

/**
 * The spool module over a "disk" that tracks, per file, the bytes written and the bytes an
 * fdatasync made durable: only what was written before the sync began. `holdSyncs` keeps each
 * fdatasync from finishing until released, to watch what happens meanwhile.
 */
async function spoolOnTrackedDisk(t: Test, { holdSyncs = false } = {}) {
  const files = new Map<number, { path: string; written: number; synced: number; syncs: number }>()
  const held: Array<() => void> = []
  const { Spool } = await t.mockImport<typeof import('../src/spool/spool.js')>('../src/spool/spool.js', {
    'node:fs': {
      ...fs,
      openSync: (path: fs.PathLike, flags: fs.OpenMode) => {
        const fd = fs.openSync(path, flags)
        files.set(fd, { path: String(path), written: 0, synced: 0, syncs: 0 })
        return fd
      },
      writeSync: (fd: number, buffer: Uint8Array) => {
        const n = fs.writeSync(fd, buffer)
        files.get(fd)!.written += n
        return n
      },
      // writev resolves with { bytesWritten, buffers } when promisified: keep that shape.
      writev: Object.assign(() => {}, {
        [promisify.custom]: async (fd: number, buffers: Uint8Array[]) => {
          const result = await promisify(fs.writev)(fd, buffers)
          files.get(fd)!.written += result.bytesWritten
          return result
        },
      }),
      fdatasync: (fd: number, callback: (err: Error | null) => void) => {
        const file = files.get(fd)!
        const covered = file.written
        file.syncs++
        const run = () =>
          fs.fdatasync(fd, (err) => {
            if (!err) file.synced = Math.max(file.synced, covered)
            callback(err)
          })
        if (holdSyncs) held.push(run)
        else run()
      },
    },
  })
  return { Spool, files, releaseSyncs: () => held.splice(0).forEach((run) => run()) }
}

const KEY = 'v1/2011-09-26/19-27-39-638-Z-4hTqA3xP-Kz8mNc2Q-1-v1.gz'
const settle = () => new Promise((resolve) => setTimeout(resolve, 30))

t.test('spool: nothing is acknowledged before fdatasync; a disk that loses unsynced writes still holds every acknowledged event', async (t) => {
  const { Spool, files } = await spoolOnTrackedDisk(t)
  const dir = tempDir(t)
  const spool: SpoolClass = new Spool(dir)
  const segment = spool.open(KEY)
  const state = [...files.values()].find((file) => file.path.endsWith('.seg'))!
  let position = state.written
  const acknowledged: number[] = []
  for (let reqId = 1; reqId <= 30; reqId++) {
    const frames = [encodeReqData(reqId, 5, Buffer.from(`body ${reqId}`)), end(reqId)]
    for (const frame of frames) segment.append(frame)
    position += frames[0]!.byteLength + frames[1]!.byteLength
    const mine = position
    const committed = segment.commit().then(() => {
      t.ok(state.synced >= mine, `reqId ${reqId}: acknowledged only once its bytes are synced (${state.synced} synced, needs ${mine})`)
      acknowledged.push(reqId)
    })
    if (reqId % 3 === 0) await committed
  }
  await segment.commit()
  // A crash now: the disk keeps what was synced, loses the rest.
  const survived = readFileSync(state.path).subarray(0, state.synced)
  const crashDir = tempDir(t)
  writeFileSync(join(crashDir, state.path.split('/').pop()!), survived)
  const [recovered] = await new Spool(crashDir).recover()
  const ends = [...decodeBatchV1(recovered!.frames)].filter(({ event }) => event.type === 2).map(({ event }) => event.reqId)
  t.same(acknowledged.filter((reqId) => !ends.includes(reqId)), [], 'every acknowledged request survives the lost page cache')
  t.equal(acknowledged.length, 30)
  await segment.finish()
})

t.test('spool pipeline: the next write runs while an fdatasync is pending; its waiters are answered only by a later sync', async (t) => {
  const { Spool, files, releaseSyncs } = await spoolOnTrackedDisk(t, { holdSyncs: true })
  const segment = new Spool(tempDir(t)).open(KEY)
  const state = [...files.values()].find((file) => file.path.endsWith('.seg'))!
  const answered: number[] = []
  segment.append(encodeReqData(1, 5, Buffer.from('first')))
  const first = segment.commit().then(() => answered.push(1))
  await settle()
  t.equal(state.syncs, 1, 'the first round is written and its sync started (held)')
  const writtenByFirst = state.written
  segment.append(encodeReqData(2, 5, Buffer.from('second, written while the first sync runs')))
  const second = segment.commit().then(() => answered.push(2))
  await settle()
  t.ok(state.written > writtenByFirst, 'the second round was written without waiting for the first sync')
  t.same(answered, [], 'nobody answered while the sync is held')
  releaseSyncs()
  await first
  t.same(answered, [1], 'the first sync answers the first request only: it began before the second write')
  await settle()
  t.equal(state.syncs, 2, 'a second sync covers the second write')
  t.same(answered, [1], 'still held')
  releaseSyncs()
  await second
  t.same(answered, [1, 2])
  t.equal(state.synced, state.written)
  const finished = segment.finish()
  releaseSyncs()
  await finished
})

t.test('directory sink: temp file, fsync, rename, fsync of the folder; the key never exists half-written', async (t) => {
  const calls: string[] = []
  const dir = tempDir(t)
  const relativeTo = (path: unknown) => String(path).replace(dir, '<dir>').replace(/\.[0-9a-f]{8}\.tmp$/, '.<random>.tmp')
  const { DirectorySink } = await t.mockImport<typeof import('../src/sinks/directory-sink.js')>('../src/sinks/directory-sink.js', {
    'node:fs/promises': {
      ...fsPromises,
      open: async (path: string, flags: string) => {
        const handle = await fsPromises.open(path, flags)
        const name = relativeTo(path)
        calls.push(`open ${name} ${flags}`)
        return {
          writeFile: async (data: Uint8Array) => {
            calls.push(`write ${name}`)
            return handle.writeFile(data)
          },
          sync: async () => {
            calls.push(`sync ${name}`)
            return handle.sync()
          },
          close: async () => handle.close(),
        }
      },
      rename: async (from: string, to: string) => {
        calls.push(`rename ${relativeTo(from)} -> ${relativeTo(to)}`)
        return fsPromises.rename(from, to)
      },
    },
  })
  const sink = new DirectorySink(dir)
  const key = 'p/v1/2011-09-26/19-27-39-638-Z-4hTqA3xP-Kz8mNc2Q-1-v1.gz'
  await sink.put(key, Buffer.from('batch'))
  const temp = '<dir>/p/v1/2011-09-26/.19-27-39-638-Z-4hTqA3xP-Kz8mNc2Q-1-v1.gz.<random>.tmp'
  t.same(calls, [
    `open ${temp} wx`,
    `write ${temp}`,
    `sync ${temp}`,
    `rename ${temp} -> <dir>/p/v1/2011-09-26/19-27-39-638-Z-4hTqA3xP-Kz8mNc2Q-1-v1.gz`,
    'open <dir>/p/v1/2011-09-26 r',
    'sync <dir>/p/v1/2011-09-26',
  ])
})

t.test('spool recovery on hand-made torn segments: whole events kept, the torn tail cut, the batch stored clean', async (t) => {
  const frames = [1, 2, 3].flatMap((reqId) => [encodeReqData(reqId, 5, Buffer.from(`whole ${reqId}`)), end(reqId)])
  const whole = Buffer.concat(frames)
  const torn = encodeReqData(4, 5, Buffer.from('this one was being written when the power went'))
  for (const cut of [1, 2, 7, torn.byteLength - 1]) {
    const spoolDirectory = tempDir(t)
    const key = 'v1/2011-09-26/19-27-39-638-Z-4hTqA3xP-Kz8mNc2Q-1-v1.gz'
    mkdirSync(spoolDirectory, { recursive: true })
    writeFileSync(join(spoolDirectory, encodeURIComponent(key) + '.seg'), Buffer.concat([Buffer.from(`${SPOOL_MAGIC}${key}\n`), whole, torn.subarray(0, cut)]))
    const directory = tempDir(t)
    const server = new LoggingServer({ ack: 'spool', spoolDirectory, directory })
    await server.recovered
    await server.close()
    const files = readdirSync(join(directory, 'v1/2011-09-26'))
    t.equal(files.length, 1, `cut at ${cut}: the segment is delivered`)
    const raw = gunzipSync(readFileSync(join(directory, 'v1/2011-09-26', files[0]!)))
    t.same(raw, whole, `cut at ${cut}: exactly the whole events, no torn bytes`)
    t.same(readdirSync(spoolDirectory).filter((name) => name.endsWith('.seg')), [], 'the segment is removed once stored')
  }
})
