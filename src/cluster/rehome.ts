/**
 * Leftovers of a different process layout. With `--workers N` each worker
 * keeps its spool and unsent batches in `<dir>/worker-<i>`; a single process
 * uses `<dir>` itself. When the layout changes between runs (4 workers, then
 * 2, then 1), files in folders nobody owns any more are moved to a folder
 * that is recovered at start, so nothing left behind is forgotten.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs'
import { dirname, join, relative, sep } from 'node:path'
import { parseObjectKey } from '../formats/batch-v1/object-key.js'

const WORKER_FOLDER = /^worker-(\d+)$/

/** Only what the logger itself leaves there moves: spool segments and batch files. Anything else stays. */
function isOurs(relativePath: string): boolean {
  return relativePath.endsWith('.seg') || parseObjectKey(relativePath.split(sep).join('/')) !== undefined
}

/** Our files under `folder` (worker folders skipped when `skipWorkers`), as paths relative to it. */
function filesUnder(folder: string, skipWorkers = false): string[] {
  return readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(folder, join(entry.parentPath, entry.name)))
    .filter((file) => isOurs(file) && !(skipWorkers && WORKER_FOLDER.test(file.split(sep)[0]!)))
}

function moveAll(from: string, to: string, skipWorkers = false): number {
  let moved = 0
  for (const file of filesUnder(from, skipWorkers)) {
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
    // Emptied of our files; anything else in it stays.
    if (readdirSync(from, { recursive: true, withFileTypes: true }).every((entry) => !entry.isFile())) {
      rmSync(from, { recursive: true, force: true })
    }
  }
  if (workers > 1) {
    // A single process's leftovers (outside the worker folders) go to worker 0.
    moved += moveAll(directory, join(directory, 'worker-0'), true)
  }
  return moved
}
