// A real S3-protocol server (s3rver) on a free loopback port, with one bucket.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRequire } from 'node:module'
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3'
import type { S3Location } from '../../src/index.js'

const require = createRequire(import.meta.url)
// s3rver is CommonJS without types.
const S3rver = require('s3rver') as new (options: Record<string, unknown>) => {
  run(): Promise<{ port: number }>
  close(): Promise<void>
}

export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }

export interface TestS3 {
  endpoint: string
  port: number
  bucket: string
  location: S3Location
  client: S3Client
  /** Every key in the bucket, sorted. */
  keys(prefix?: string): Promise<string[]>
  get(key: string): Promise<Buffer>
  /** Stops the server (the stored objects stay on disk). */
  stop(): Promise<void>
  /** Starts it again on the same port and directory. */
  start(): Promise<void>
  close(): Promise<void>
}

export async function startS3rver(bucket = 'logs-bucket', port = 0): Promise<TestS3> {
  const directory = mkdtempSync(join(tmpdir(), 'ls-s3rver-'))
  const make = (listenPort: number) =>
    new S3rver({ port: listenPort, address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: bucket }] })
  let server = make(port)
  const address = await server.run()
  const endpoint = `http://127.0.0.1:${address.port}`
  const location: S3Location = { bucket, endpoint, region: 'us-east-1', forcePathStyle: true, credentials: S3RVER_CREDENTIALS }
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: S3RVER_CREDENTIALS })
  let running = true
  const s3: TestS3 = {
    endpoint,
    port: address.port,
    bucket,
    location,
    client,
    async keys(prefix) {
      const keys: string[] = []
      let token: string | undefined
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }))
        for (const object of page.Contents ?? []) keys.push(object.Key!)
        token = page.NextContinuationToken
      } while (token)
      return keys.sort()
    },
    async get(key) {
      const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
      return Buffer.from(await object.Body!.transformToByteArray())
    },
    async stop() {
      if (!running) return
      running = false
      await server.close()
    },
    async start() {
      if (running) return
      server = make(address.port)
      await server.run()
      running = true
    },
    async close() {
      await s3.stop()
      client.destroy()
      rmSync(directory, { recursive: true, force: true })
    },
  }
  return s3
}
