// Runs a node script as a child process and waits for its first JSON line.
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'

export interface Child {
  process: ChildProcess
  /** The first stdout line that parses as JSON and has `key`. */
  waitForJson<T = Record<string, unknown>>(predicate: (line: Record<string, unknown>) => boolean): Promise<T>
  /** Everything printed so far. */
  output(): string
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>
  exited: Promise<number | null>
}

export function spawnNode(t: { teardown(fn: () => unknown): void }, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Child {
  const child = spawn(process.execPath, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const lines: Array<Record<string, unknown>> = []
  const waiters: Array<{ predicate: (line: Record<string, unknown>) => boolean; resolve: (line: unknown) => void }> = []
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  createInterface({ input: child.stdout! }).on('line', (line) => {
    output += line + '\n'
    try {
      const parsed = JSON.parse(line) as Record<string, unknown>
      lines.push(parsed)
      for (const waiter of [...waiters]) {
        if (waiter.predicate(parsed)) {
          waiters.splice(waiters.indexOf(waiter), 1)
          waiter.resolve(parsed)
        }
      }
    } catch {
      // not JSON
    }
  })
  child.stderr!.on('data', (data) => (output += data))
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  return {
    process: child,
    exited,
    output: () => output,
    waitForJson<T>(predicate: (line: Record<string, unknown>) => boolean) {
      const seen = lines.find(predicate)
      if (seen) return Promise.resolve(seen as T)
      return new Promise<T>((resolve, reject) => {
        waiters.push({ predicate, resolve: resolve as (line: unknown) => void })
        exited.then((code) => reject(new Error(`process exited (${code}) before the expected line; output:\n${output}`)))
      })
    },
    async stop(signal = 'SIGTERM') {
      child.kill(signal)
      return exited
    },
  }
}
