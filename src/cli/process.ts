/** Runs the CLI in this process: real streams, real signals, exit code on return. */
import { main } from './main.js'

export async function runCliProcess(argv: string[]): Promise<void> {
  const stopSignal = new Promise<string>((resolve) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => resolve(signal))
  })
  try {
    process.exitCode = await main(argv, { stdout: process.stdout, stderr: process.stderr, env: process.env, stopSignal })
  } catch (err) {
    process.stderr.write(`logging-system: ${(err as Error).stack ?? String(err)}\n`)
    process.exitCode = 1
  }
}
