/**
 * Funnels and flows computed from an ordered stream of events: pure, the same
 * for both stores. The store only filters and orders (user, time, key).
 *
 * Funnel rule: a user reaches step k when they have events of steps 1..k in
 * that order (each later than or equal in time to the one before, a later
 * event in (time, key) order) and the last is at most `windowMs` after the
 * first (inclusive). One event serves one step. Repeated types in `steps`
 * (A, B, A) need separate events.
 */

export interface OrderedEvent {
  user: string
  type: string
  time: number
}

export interface FunnelStep {
  /** The step's event type. */
  type: string
  /** Users who reached this step within the window. */
  users: number
  /** users / users of step 1 (1 for step 1; 0 when nobody entered). */
  conversion: number
  /** users / users of the step before (1 for step 1). */
  conversionFromPrevious: number
  /** Users of the step before who did not reach this one (0 for step 1). */
  dropOff: number
}

export interface FunnelResult {
  windowSeconds: number
  steps: FunnelStep[]
}

/**
 * Per user, the furthest step reached. For each step k it keeps the latest
 * start time of a chain that reached k: a later start leaves the most window
 * for the steps after, so it dominates every earlier chain.
 */
export class FunnelCounter {
  readonly #steps: readonly string[]
  readonly #windowMs: number
  readonly #reached: number[]
  #user: string | undefined
  #starts: number[]

  constructor(steps: readonly string[], windowMs: number) {
    this.#steps = steps
    this.#windowMs = windowMs
    this.#reached = new Array<number>(steps.length + 1).fill(0)
    this.#starts = new Array<number>(steps.length).fill(-Infinity)
  }

  /** Events must come grouped by user and, within a user, in (time, key) order. */
  add(event: OrderedEvent): void {
    if (event.user !== this.#user) {
      this.#finishUser()
      this.#user = event.user
    }
    const starts = this.#starts
    // Highest step first, so one event never serves two consecutive steps.
    for (let k = this.#steps.length - 1; k >= 0; k--) {
      if (this.#steps[k] !== event.type) continue
      if (k === 0) starts[0] = event.time
      else if (starts[k - 1]! !== -Infinity && event.time - starts[k - 1]! <= this.#windowMs && starts[k - 1]! > starts[k]!) starts[k] = starts[k - 1]!
    }
  }

  #finishUser(): void {
    if (this.#user === undefined) return
    let level = 0
    for (let k = this.#steps.length - 1; k >= 0; k--) {
      if (this.#starts[k] !== -Infinity) {
        level = k + 1
        break
      }
    }
    this.#reached[level]!++
    this.#starts.fill(-Infinity)
  }

  result(): FunnelResult {
    this.#finishUser()
    this.#user = undefined
    const n = this.#steps.length
    // users[k]: users who reached at least step k+1.
    const users: number[] = []
    let atLeast = 0
    for (let level = n; level >= 1; level--) {
      atLeast += this.#reached[level]!
      users[level - 1] = atLeast
    }
    const first = users[0]!
    return {
      windowSeconds: this.#windowMs / 1000,
      steps: this.#steps.map((type, k) => ({
        type,
        users: users[k]!,
        conversion: k === 0 ? (first > 0 ? 1 : 0) : first > 0 ? users[k]! / first : 0,
        conversionFromPrevious: k === 0 ? (first > 0 ? 1 : 0) : users[k - 1]! > 0 ? users[k]! / users[k - 1]! : 0,
        dropOff: k === 0 ? 0 : users[k - 1]! - users[k]!,
      })),
    }
  }
}
