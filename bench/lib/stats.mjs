/** Nearest-rank percentile of an ascending-sorted array (p in 0..100). */
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]
}

export function median(values) {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b)
  if (finite.length === 0) return NaN
  const mid = finite.length >> 1
  return finite.length % 2 ? finite[mid] : (finite[mid - 1] + finite[mid]) / 2
}

/** Runs `fn` repeatedly for at least `minMs` (after one warm-up call); returns the best ms per call. */
export function timeBest(fn, { minMs = 1000, minRuns = 3 } = {}) {
  fn()
  const times = []
  const started = performance.now()
  while (times.length < minRuns || performance.now() - started < minMs) {
    const t0 = performance.now()
    fn()
    times.push(performance.now() - t0)
  }
  return { bestMs: Math.min(...times), medianMs: median(times), runs: times.length }
}
