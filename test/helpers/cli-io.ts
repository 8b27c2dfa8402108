/** An in-memory CliIo for running commands in-process: captured output and a stop signal you fire. */
import { PassThrough } from 'node:stream'
import type { CliIo } from '../../src/cli/command-line.js'

export interface CapturedIo extends CliIo {
  out(): string
  err(): string
  stop(signal?: string): void
}

export function captureIo(env: NodeJS.ProcessEnv = {}): CapturedIo {
  const stdout = new PassThrough()
  const stderr = new PassThrough()
  let out = ''
  let err = ''
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()))
  let stop: (signal: string) => void = () => {}
  const stopSignal = new Promise<string>((resolve) => (stop = resolve))
  return { stdout, stderr, env, stopSignal, out: () => out, err: () => err, stop: (signal = 'SIGTERM') => stop(signal) }
}
