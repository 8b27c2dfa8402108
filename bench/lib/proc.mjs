// Per-process figures from /proc (Linux): CPU time and resident memory.
import { readFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'

let ticksPerSecond = 100
try {
  ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100
} catch {}

/** utime + stime of `pid`, in ms (resolution 1000 / CLK_TCK ms); undefined if gone. */
export function cpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the ")" that closes the command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond
  } catch {
    return undefined
  }
}

/** { rssKiB, hwmKiB } from /proc/<pid>/status (VmRSS now, VmHWM the peak so far); undefined if gone. */
export function memory(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kib = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN)
    return { rssKiB: kib('VmRSS'), hwmKiB: kib('VmHWM') }
  } catch {
    return undefined
  }
}

/** `pid` and its child processes (cluster workers), from /proc/<pid>/task/<pid>/children. */
export function processTree(pid) {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
    return [pid, ...children.flatMap((child) => processTree(child))]
  } catch {
    return [pid]
  }
}

/** CPU ms of `pid` and its children (cluster workers) now alive. */
export function treeCpuMs(pid) {
  return processTree(pid).reduce((sum, p) => sum + (cpuMs(p) ?? 0), 0)
}

/** { rssKiB, hwmKiB } summed over `pid` and its children (a cluster's workers), and the largest process's peak (maxHwmKiB). */
export function treeMemory(pid) {
  let rssKiB = 0
  let hwmKiB = 0
  let maxHwmKiB = 0
  for (const p of processTree(pid)) {
    const m = memory(p)
    if (m) {
      rssKiB += m.rssKiB
      hwmKiB += m.hwmKiB
      maxHwmKiB = Math.max(maxHwmKiB, m.hwmKiB)
    }
  }
  return { rssKiB, hwmKiB, maxHwmKiB }
}
