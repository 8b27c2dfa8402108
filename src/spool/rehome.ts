/**
 * Leftovers of a different process layout. With `--workers N` each worker
 * keeps its spool and unsent batches in `<dir>/worker-<i>`; a single process
 * uses `<dir>` itself. When the layout changes between runs (4 workers, then
 * 2, then 1), files in folders nobody owns any more are moved to a folder
 * that is recovered at start, so nothing left behind is forgotten.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'

const WORKER_FOLDER = /^worker-(\d+)$/

/** Every file under `folder`, as paths relative to it. */
function filesUnder(folder: string): string[] {
  return readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(folder, join(entry.parentPath, entry.name)))
}

function moveAll(from: string, to: string): number {
  let moved = 0
  for (const file of filesUnder(from)) {
    const target = join(to, file)
    mkdirSync(dirname(target), { recursive: true })
    renameSync(join(from, file), target)
    moved++
  }
  return moved
}

/**
 * Moves what `directory` holds outside the folders of `workers` workers
 * (`workers` = 1: a single process, which owns `directory` itself) into
 * folders that are owned. Returns the number of files moved.
 */
export function rehomeLeftovers(directory: string, workers: number): number {
  if (!existsSync(directory) || !statSync(directory).isDirectory()) return 0
  let moved = 0
  for (const name of readdirSync(directory)) {
    const match = WORKER_FOLDER.exec(name)
    if (!match) continue
    const index = Number(match[1])
    if (workers > 1 && index < workers) continue
    const from = join(directory, name)
    moved += moveAll(from, workers > 1 ? join(directory, `worker-${index % workers}`) : directory)
    rmSync(from, { recursive: true, force: true })
  }
  if (workers > 1) {
    // A single process's leftovers (files directly in `directory`) go to worker 0.
    const own = readdirSync(directory, { withFileTypes: true }).filter((entry) => !WORKER_FOLDER.test(entry.name))
    for (const entry of own) {
      const from = join(directory, entry.name)
      const to = join(directory, 'worker-0', entry.name)
      if (entry.isDirectory()) {
        moved += moveAll(from, to)
        rmSync(from, { recursive: true, force: true })
      } else {
        mkdirSync(dirname(to), { recursive: true })
        renameSync(from, to)
        moved++
      }
    }
  }
  return moved
}
