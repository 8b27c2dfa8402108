/** Runs the CLI in this process: real streams, real signals, exit code on return. */
import cluster from 'node:cluster'
import { main } from './main.js'

export async function runCliProcess(argv: string[]): Promise<void> {
  // The pinned AWS SDK runs on Node 20; its multi-line warning is about SDK versions released later
  // (the README says which Node versions are tested). Kept out of the CLI's output unless the user set the variable.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true'
  // Handlers stay installed: a second signal (a supervisor that signals the whole
  // process group, a cluster primary forwarding one) must not kill a process
  // that is writing its last batch. closeTimeoutMs bounds the shutdown instead.
  const stopSignal = new Promise<string>((resolve) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => resolve(signal))
  })
  // `replay ... | head`: the reader of stdout went away. That ends the output, not with a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err
    process.exit(process.exitCode ?? 0)
  })
  try {
    process.exitCode = await main(argv, { stdout: process.stdout, stderr: process.stderr, env: process.env, stopSignal })
  } catch (err) {
    process.stderr.write(`logging-system: ${(err as Error).stack ?? String(err)}\n`)
    process.exitCode = 1
  }
  // A cluster worker's IPC channel would keep it alive after its work is done.
  if (cluster.isWorker) process.exit(process.exitCode)
}
