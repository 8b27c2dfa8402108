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
 * The spool module over a "disk" that keeps, per file, only what was made durable: the ranges of
 * writes on an O_DSYNC descriptor that completed, and what an fdatasync covered (the bytes written
 * before it began). `holdWrites` keeps each synchronized write (and fdatasync) from completing until
 * released, in any order, to watch what happens meanwhile.
 */
interface TrackedFile {
  path: string
  dsync: boolean
  written: number
  /** Durable byte ranges [start, end). */
  durable: Array<[number, number]>
  /** Synchronized writes and fdatasyncs begun. */
  syncs: number
}

/** Durable bytes from offset 0 on, without a gap. */
function durablePrefix(file: TrackedFile): number {
  let prefix = 0
  for (const [start, end] of [...file.durable].sort((a, b) => a[0] - b[0])) if (start <= prefix) prefix = Math.max(prefix, end)
  return prefix
}

/** What a crash leaves of `file`: its durable ranges, zeros in between (as a file system may). */
function afterCrash(file: TrackedFile): Buffer {
  const content = readFileSync(file.path)
  const end = Math.max(0, ...file.durable.map(([, to]) => to))
  const survived = Buffer.alloc(end)
  for (const [from, to] of file.durable) content.copy(survived, from, from, to)
  return survived
}

async function spoolOnTrackedDisk(t: Test, { holdWrites = false } = {}) {
  const files = new Map<number, TrackedFile>()
  const held: Array<() => void> = []
  const { Spool } = await t.mockImport<typeof import('../src/spool/spool.js')>('../src/spool/spool.js', {
    'node:fs': {
      ...fs,
      openSync: (path: fs.PathLike, flags: fs.OpenMode) => {
        const fd = fs.openSync(path, flags)
        const dsync = typeof flags === 'number' && (flags & fs.constants.O_DSYNC) !== 0
        files.set(fd, { path: String(path), dsync, written: 0, durable: [], syncs: 0 })
        return fd
      },
      writeSync: (fd: number, buffer: Uint8Array) => {
        const file = files.get(fd)!
        const n = fs.writeSync(fd, buffer)
        if (file.dsync) file.durable.push([file.written, file.written + n])
        file.written += n
        return n
      },
      // writev resolves with { bytesWritten, buffers } when promisified: keep that shape.
      writev: Object.assign(() => {}, {
        [promisify.custom]: async (fd: number, buffers: Uint8Array[], position: number) => {
          const file = files.get(fd)!
          const result = await promisify(fs.writev)(fd, buffers, position)
          const start = position ?? file.written
          file.written = Math.max(file.written, start + result.bytesWritten)
          if (!file.dsync) return result
          file.syncs++
          if (holdWrites) await new Promise<void>((release) => held.push(release))
          file.durable.push([start, start + result.bytesWritten])
          return result
        },
      }),
      fdatasync: (fd: number, callback: (err: Error | null) => void) => {
        const file = files.get(fd)!
        const covered = file.written
        file.syncs++
        const run = () =>
          fs.fdatasync(fd, (err) => {
            if (!err) file.durable.push([0, covered])
            callback(err)
          })
        if (holdWrites) held.push(run)
        else run()
      },
    },
  })
  return { Spool, files, held }
}

const KEY = 'v1/2011-09-26/19-27-39-638-Z-4hTqA3xP-Kz8mNc2Q-1-v1.gz'
const settle = () => new Promise((resolve) => setTimeout(resolve, 30))

t.test('spool: nothing is acknowledged before it is durable; a disk that loses everything else still holds every acknowledged event', async (t) => {
  const { Spool, files } = await spoolOnTrackedDisk(t)
  const dir = tempDir(t)
  const spool: SpoolClass = new Spool(dir)
  const segment = spool.open(KEY)
  const state = [...files.values()].find((file) => file.path.endsWith('.seg'))!
  t.ok(state.dsync, 'segments are opened O_DSYNC')
  let position = Buffer.byteLength(`${SPOOL_MAGIC}${KEY}\n`)
  const acknowledged: number[] = []
  for (let reqId = 1; reqId <= 30; reqId++) {
    const frames = [encodeReqData(reqId, 5, Buffer.from(`body ${reqId}`)), end(reqId)]
    for (const frame of frames) segment.append(frame)
    position += frames[0]!.byteLength + frames[1]!.byteLength
    const mine = position
    const committed = segment.commit().then(() => {
      t.ok(durablePrefix(state) >= mine, `reqId ${reqId}: acknowledged only once its bytes are durable (${durablePrefix(state)} durable, needs ${mine})`)
      acknowledged.push(reqId)
    })
    if (reqId % 3 === 0) await committed
  }
  await segment.commit()
  // A crash now: the disk keeps what was durable, loses the rest.
  const crashDir = tempDir(t)
  writeFileSync(join(crashDir, state.path.split('/').pop()!), afterCrash(state))
  const [recovered] = await new Spool(crashDir).recover()
  const ends = [...decodeBatchV1(recovered!.frames)].filter(({ event }) => event.type === 2).map(({ event }) => event.reqId)
  t.same(acknowledged.filter((reqId) => !ends.includes(reqId)), [], 'every acknowledged request survives the lost page cache')
  t.equal(acknowledged.length, 30)
  await segment.finish()
})

t.test('spool, one write in flight (the default): the next round starts once the write before it completed', async (t) => {
  const { Spool, files, held } = await spoolOnTrackedDisk(t, { holdWrites: true })
  const segment = new Spool(tempDir(t)).open(KEY)
  const state = [...files.values()].find((file) => file.path.endsWith('.seg'))!
  const answered: number[] = []
  const commits: Promise<unknown>[] = []
  for (let reqId = 1; reqId <= 3; reqId++) {
    segment.append(encodeReqData(reqId, 5, Buffer.from(`request ${reqId}`)))
    commits.push(segment.commit().then(() => answered.push(reqId)))
    await settle()
  }
  t.equal(state.syncs, 1, 'one write runs; requests 2 and 3 wait for the next round')
  held.shift()!()
  await commits[0]
  await settle()
  t.same(answered, [1], 'the first write answers the first request only')
  t.equal(state.syncs, 2, 'the next round carries requests 2 and 3 together')
  held.shift()!()
  await Promise.all(commits)
  t.same(answered, [1, 2, 3])
  t.equal(state.syncs, 2, 'two rounds for three requests')
  await segment.finish()
})

t.test('spool with two writes in flight: a next write runs while one is pending; a waiter is answered only once every write up to its bytes completed', async (t) => {
  const { Spool, files, held } = await spoolOnTrackedDisk(t, { holdWrites: true })
  const segment = new Spool(tempDir(t), undefined, { writesInFlight: 2 }).open(KEY)
  const state = [...files.values()].find((file) => file.path.endsWith('.seg'))!
  const answered: number[] = []
  segment.append(encodeReqData(1, 5, Buffer.from('first')))
  const first = segment.commit().then(() => answered.push(1))
  await settle()
  t.equal(state.syncs, 1, 'the first round (header and first event) is written, its completion held')
  segment.append(encodeReqData(2, 5, Buffer.from('second')))
  const second = segment.commit().then(() => answered.push(2))
  await settle()
  t.equal(state.syncs, 1, 'until the header is durable, no other write starts: no later bytes can land without it')
  held.shift()!()
  await first
  t.same(answered, [1])
  await settle()
  t.equal(state.syncs, 2, 'the second round started once the first completed')
  segment.append(encodeReqData(3, 5, Buffer.from('third, written while the second is pending')))
  const third = segment.commit().then(() => answered.push(3))
  await settle()
  t.equal(state.syncs, 3, 'the third round runs while the second is pending')
  const [releaseSecond, releaseThird] = held.splice(0)
  releaseThird!()
  await settle()
  t.same(answered, [1], 'the third write completed first, but the second is still pending: nobody is answered')
  // A crash now keeps the third write and not the second: recovery cuts at the gap.
  const crashDir = tempDir(t)
  writeFileSync(join(crashDir, state.path.split('/').pop()!), afterCrash(state))
  const [recovered] = await new Spool(crashDir).recover()
  t.same([...decodeBatchV1(recovered!.frames)].map(({ event }) => event.reqId), [1], 'recovery keeps what was acknowledged, before the gap')
  t.ok(recovered!.tornBytes > 0, 'the bytes after the gap are counted as torn')
  releaseSecond!()
  await Promise.all([second, third])
  t.same(answered, [1, 2, 3], 'both are answered once the second completes, in order')
  t.equal(durablePrefix(state), state.written)
  const finished = segment.finish()
  await finished
})

t.test('spool recovery: a segment whose first write never completed (empty, a part of its header, zeros) holds nothing and is discarded without an error', async (t) => {
  const dir = tempDir(t)
  const header = Buffer.from(`${SPOOL_MAGIC}${KEY}\n`)
  const name = encodeURIComponent(KEY) + '.seg'
  const errors: string[] = []
  for (const content of [Buffer.alloc(0), header.subarray(0, 5), Buffer.concat([header.subarray(0, 12), Buffer.alloc(40)]), Buffer.alloc(300)]) {
    writeFileSync(join(dir, name), content)
    const { Spool } = await import('../src/spool/spool.js')
    const [recovered] = await new Spool(dir, { onError: (err) => errors.push(err.message) }).recover()
    t.equal(recovered?.key, KEY, `${content.byteLength} bytes: recovered under the key of its file name`)
    t.equal(recovered?.events, 0, 'no events')
    await recovered?.discard()
    t.same(readdirSync(dir), [], 'discarded')
  }
  t.same(errors, [], 'no error reported')
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
