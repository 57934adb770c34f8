// API Gateway's request throttling and usage-plan quotas, as the local REST APIs apply them.
// API Gateway meters requests with token buckets (a bucket holds up to `burst` tokens and refills
// at `rate` per second; a request takes one) and checks, in order, the usage plan's limits for the
// caller's API key (the plan-wide throttle, and a per-method throttle its API stage lists), then the
// stage's method throttling (MethodSettings: `*/*` for every method, each method metered on its
// own, or one method's override): "How throttling limit settings are applied in API Gateway",
// https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html.
// A usage plan's throttle and quota are per API key and aggregated across every API stage of the
// plan ("Throttling and quota limits apply to requests for individual API keys that are aggregated
// across all API stages within a usage plan", API Gateway developer guide, usage plans); per-method
// throttles are per key, per stage, per method.
// Own code rather than a rate-limiting package: a request must take a token from several buckets
// at once or from none (a throttled call costs no token anywhere, as a 429 from API Gateway does
// not), which the token-bucket packages on npm do not offer; it is a few lines.

/** A throttle: requests per second and bucket size. Absent or negative: not throttled (-1 in AWS). */
export interface ThrottleLimit {
  rate?: number;
  burst?: number;
}

/** One bucket a request must take a token from. */
export interface Metered {
  key: string;
  limit: ThrottleLimit;
}

interface Bucket {
  tokens: number;
  last: number;
}

/** Whether a limit throttles at all: API Gateway's unset limits are -1. */
export function throttles(limit: ThrottleLimit | undefined): limit is ThrottleLimit {
  return limit?.rate !== undefined && limit.rate >= 0;
}

/** The UTC day, week or month a quota counts in. */
export function quotaPeriod(period: string, at: Date): string {
  if (period === "DAY") return at.toISOString().slice(0, 10);
  if (period === "WEEK") return `w${Math.floor((at.getTime() / 86_400_000 + 4) / 7)}`;
  return at.toISOString().slice(0, 7);
}

/**
 * Every bucket and quota counter of a run, shared by all its REST APIs: a usage plan may list
 * stages of several APIs, and its key's limits hold across them.
 */
export class ApiThrottles {
  private readonly buckets = new Map<string, Bucket>();
  private readonly quotaUse = new Map<string, { count: number; period: string }>();

  constructor(private readonly now: () => number = Date.now) {}

  private bucket(m: Metered, now: number): Bucket & { cap: number } {
    const rate = m.limit.rate!;
    const cap = m.limit.burst !== undefined && m.limit.burst >= 0 ? m.limit.burst : Math.ceil(rate);
    const b = this.buckets.get(m.key) ?? { tokens: cap, last: now };
    b.tokens = Math.min(cap, b.tokens + ((now - b.last) / 1000) * rate);
    b.last = now;
    this.buckets.set(m.key, b);
    return Object.assign(b, { cap });
  }

  /**
   * Takes a token from each bucket that throttles, or from none when any is empty: returns the
   * first empty one's key, or undefined when the request may go on.
   */
  take(metered: Metered[]): string | undefined {
    const now = this.now();
    const live = metered
      .filter((m) => throttles(m.limit))
      .map((m) => [m, this.bucket(m, now)] as const);
    const empty = live.find(([, b]) => b.tokens < 1);
    if (empty) return empty[0].key;
    for (const [, b] of live) b.tokens -= 1;
    return undefined;
  }

  /** Counts a request against a quota; false (and not counted) once `limit` is used up. */
  count(key: string, quota: { limit: number; period: string }): boolean {
    const period = quotaPeriod(quota.period, new Date(this.now()));
    const use = this.quotaUse.get(key);
    const count = use && use.period === period ? use.count : 0;
    if (count >= quota.limit) return false;
    this.quotaUse.set(key, { count: count + 1, period });
    return true;
  }
}
