/** A token bucket: at most `perSecond` takes a second on average, bursts up to `burst`. */
export class RateLimiter {
  private tokens: number
  private last: number

  constructor(
    private readonly perSecond: number,
    private readonly burst: number = Math.max(1, perSecond),
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst
    this.last = now()
  }

  /** Ms to wait before the next take would succeed (0: now). Takes the token when it returns 0. */
  tryTake(): number {
    if (this.perSecond === Infinity) return 0
    const now = this.now()
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.perSecond) / 1000)
    this.last = now
    if (this.tokens >= 1) {
      this.tokens -= 1
      return 0
    }
    return Math.ceil(((1 - this.tokens) * 1000) / this.perSecond)
  }
}
