/**
 * The circuit breaker that keeps a hung daemon from costing every call its timeout (as
 * client-py's `breaker.py` does).
 *
 * After a call times out, calls skip the daemon (and fail open at once) for an interval: 1 s,
 * doubling after each further timeout up to 60 s. When the interval is over, the next call is the
 * probe and tries the daemon again while the others keep skipping; any outcome other than a
 * timeout (an answer, an error reply, a refused connection — none of them costs the timeout)
 * closes the breaker.
 *
 * @module
 */

export interface BreakerOptions {
  /** The first interval, in ms; default 1000. */
  firstMs?: number;
  /** The longest interval, in ms; default 60000. */
  capMs?: number;
  /** The time in ms; default `performance.now`. Tests pass their own. */
  now?: () => number;
}

/** Whether a call may try the daemon now. */
export class Breaker {
  private readonly firstMs: number;
  private readonly capMs: number;
  private readonly now: () => number;
  /** 0 while closed. */
  private intervalMs = 0;
  private untilMs = 0;
  private epoch = 0;

  constructor(options: BreakerOptions = {}) {
    this.firstMs = options.firstMs ?? 1000;
    this.capMs = options.capMs ?? 60_000;
    this.now = options.now ?? (() => performance.now());
  }

  /**
   * A ticket for a call that may try the daemon (give it to {@link timedOut}), or `null` when
   * the call must skip it. Once an interval is over, one call gets a ticket and the interval
   * starts again for the others while it probes.
   */
  allow(): number | null {
    if (this.intervalMs === 0) return this.epoch;
    const now = this.now();
    if (now < this.untilMs) return null;
    this.untilMs = now + this.intervalMs;
    return this.epoch;
  }

  /** Milliseconds until the next call may probe the daemon; 0 while closed. */
  remainingMs(): number {
    return this.intervalMs === 0 ? 0 : Math.max(this.untilMs - this.now(), 0);
  }

  /**
   * Records that the call holding `ticket` timed out and returns the interval (ms) the daemon
   * is now skipped for; `null` when another call already recorded this outage (a ticket from
   * before the breaker last opened or closed).
   */
  timedOut(ticket: number): number | null {
    if (ticket !== this.epoch) return null;
    this.epoch++;
    this.intervalMs = this.intervalMs === 0 ? this.firstMs : Math.min(this.intervalMs * 2, this.capMs);
    this.untilMs = this.now() + this.intervalMs;
    return this.intervalMs;
  }

  /** Closes the breaker: the daemon answered, or failed without making the call wait. */
  reset(): void {
    if (this.intervalMs === 0) return;
    this.epoch++;
    this.intervalMs = 0;
  }
}
