/**
 * The checks every options object uses, so a bad value reads the same
 * everywhere: `invalid option <name>: must be a positive integer, got <value>`.
 */
import { InvalidOptionError } from './errors.js'

/** `value` when it is a safe integer ≥ 1 (≥ 0 with `allowZero`), `fallback` when undefined; else InvalidOptionError. */
export function positiveInteger(name: string, value: number | undefined, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new InvalidOptionError(name, `must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${String(value)}`)
  }
  return value
}

/** `value` when it is a finite number > 0, `fallback` when undefined; else InvalidOptionError. */
export function positiveNumber(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isFinite(value) || value <= 0) throw new InvalidOptionError(name, `must be a positive number, got ${String(value)}`)
  return value
}
