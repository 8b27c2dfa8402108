#!/usr/bin/env node
// Sums self time by function (name + file:line) over a V8 .cpuprofile; prints the top N.
//   node lib/cpuprofile-summary.mjs <file.cpuprofile> [N]
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export function summariseProfile(profile, top = 20) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const selfUs = new Map()
  // timeDeltas[i] is the time before sample i; attribute it to that sample's node.
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
  }
  const byFunction = new Map()
  let total = 0
  for (const [id, us] of selfUs) {
    const { callFrame } = byId.get(id)
    const url = callFrame.url.replace(/^file:\/\//, '').replace(/.*\/node_modules\//, 'node_modules/').replace(/.*\/(dist|bin)\//, '$1/')
    const key = `${callFrame.functionName || '(anonymous)'} ${url ? `${url}:${callFrame.lineNumber + 1}` : ''}`.trim()
    byFunction.set(key, (byFunction.get(key) ?? 0) + us)
    total += us
  }
  const rows = [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)
  return { totalMs: total / 1000, rows: rows.map(([name, us]) => ({ name, ms: us / 1000, percent: (100 * us) / total })) }
}

export function formatProfile(summary) {
  const lines = [`total sampled: ${summary.totalMs.toFixed(0)} ms`, '', '| self % | self ms | function (file:line) |', '| ---: | ---: | --- |']
  for (const r of summary.rows) lines.push(`| ${r.percent.toFixed(1)} | ${r.ms.toFixed(0)} | \`${r.name}\` |`)
  return lines.join('\n')
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [file, top = '20'] = process.argv.slice(2)
  console.log(formatProfile(summariseProfile(JSON.parse(readFileSync(file, 'utf8')), Number(top))))
}
