// Reads what a LoggingServer wrote (a batch directory or an S3 bucket) back
// into whole requests, through the package's own reader.
import { readdir, readFile } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import { parseObjectKey, type HttpEvent } from '../../src/index.js'
import { readBatchBody } from '../../src/reader/batch-body.js'
import { RequestAssembler, type LoggedRequest } from '../../src/reader/request-assembler.js'

export interface StoredBatch {
  key: string
  body: Buffer
}

/** Every finished batch file under `dir` (temp files skipped), as key + body. */
export async function readBatchDirectory(dir: string): Promise<StoredBatch[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])
  const batches: StoredBatch[] = []
  for (const entry of entries) {
    if (!entry.isFile() || entry.name.startsWith('.')) continue
    const path = join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name)
    batches.push({ key: relative(dir, path).split(sep).join('/'), body: await readFile(path) })
  }
  return batches
}

export interface Decoded {
  requests: LoggedRequest[]
  events: Array<HttpEvent & { serverToken: string; batchNumber: number }>
  incomplete: string[]
}

/** Decodes batches in (serverToken, batchNumber) order and rejoins their requests. */
export function decodeBatches(batches: StoredBatch[]): Decoded {
  const ordered = batches
    .map((batch) => ({ batch, parts: parseObjectKey(batch.key) }))
    .map(({ batch, parts }) => {
      if (!parts) throw new Error(`not a batch key: ${batch.key}`)
      return { batch, parts }
    })
    .sort((a, b) => a.parts.serverToken.localeCompare(b.parts.serverToken) || a.parts.batchNumber - b.parts.batchNumber)
  const assembler = new RequestAssembler()
  const requests: LoggedRequest[] = []
  const events: Decoded['events'] = []
  for (const { batch, parts } of ordered) {
    for (const { event } of readBatchBody(batch.body)) {
      events.push({ ...event, serverToken: parts.serverToken, batchNumber: parts.batchNumber })
      const done = assembler.push(parts.serverToken, event)
      if (done) requests.push(done)
    }
  }
  return { requests, events, incomplete: assembler.incomplete() }
}

export async function readLoggedRequests(dir: string): Promise<Decoded & { batches: StoredBatch[] }> {
  const batches = await readBatchDirectory(dir)
  return { ...decodeBatches(batches), batches }
}
