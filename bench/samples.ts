// Events the hot-path benchmarks feed to the declared rules and transformers: a few realistic ones
// (shapes from README and the webhook receiver) and, for every declared rule, an event built to
// match its pattern, so rules added later are exercised without editing the bench.
import { matchesPattern } from "../lib/eventPattern";
import { ACCOUNT, REGION } from "../local/account";

const base = (source: string, detailType: string, detail: object, i = 0) => ({
  version: "0",
  id: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
  "detail-type": detailType,
  source,
  account: ACCOUNT,
  time: "2026-11-21T10:00:00Z",
  region: REGION,
  resources: [] as string[],
  detail,
});

/** Realistic events of the hub. */
export function realisticEvents(): object[] {
  return [
    base(
      "switchyard.records",
      "RecordCreated",
      {
        tenantId: "acme",
        database: "switchyard.records",
        collection: "invoices",
        recordId: "inv-42",
        recordVersion: 3,
        payload: {
          total: 120,
          currency: "EUR",
          lines: [
            { sku: "A-1", qty: 2 },
            { sku: "B-7", qty: 1 },
          ],
        },
        correlationId: "corr-0001",
      },
      1,
    ),
    base(
      "switchyard.records",
      "RecordUpdated",
      {
        tenantId: "globex",
        database: "switchyard.records",
        collection: "orders",
        recordId: "ord-7",
        recordVersion: 12,
        payload: { status: "shipped" },
        correlationId: "corr-0002",
      },
      2,
    ),
    base(
      "switchyard.webhooks.github",
      "push",
      {
        provider: "github",
        deliveryId: "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        correlationId: "gh-corr-1",
        eventType: "push",
        receivedAt: "2026-11-21T10:00:00.000Z",
        headers: { "x-github-event": "push" },
        payload: {
          ref: "refs/heads/main",
          repository: { full_name: "acme/site" },
          commits: [{ id: "abc", message: "fix" }],
        },
      },
      3,
    ),
    base(
      "switchyard.webhooks.stripe",
      "invoice.paid",
      {
        provider: "stripe",
        deliveryId: "evt_1",
        correlationId: "evt_1",
        eventType: "invoice.paid",
        receivedAt: "2026-11-21T10:00:00.000Z",
        headers: {},
        payload: { id: "evt_1", type: "invoice.paid", data: { object: { amount_paid: 1200 } } },
      },
      4,
    ),
    base("aws.s3", "Object Created", { bucket: { name: "other" }, object: { key: "x" } }, 5),
  ];
}

type Pattern = Record<string, unknown>;

/** A value that satisfies one pattern matcher, or undefined when the field must be absent. */
function witnessValue(m: unknown): { value?: unknown; absent?: boolean } | null {
  if (m === null || typeof m !== "object") return { value: m };
  const o = m as Record<string, any>;
  if ("exists" in o) return o.exists ? { value: "bench" } : { absent: true };
  if ("prefix" in o)
    return {
      value: `${typeof o.prefix === "string" ? o.prefix : o.prefix["equals-ignore-case"]}bench`,
    };
  if ("suffix" in o)
    return {
      value: `bench${typeof o.suffix === "string" ? o.suffix : o.suffix["equals-ignore-case"]}`,
    };
  if ("equals-ignore-case" in o) return { value: o["equals-ignore-case"] };
  if ("wildcard" in o) return { value: String(o.wildcard).replace(/\*/g, "bench") };
  if ("anything-but" in o) return { value: "bench-anything-but" };
  if ("numeric" in o) {
    const ops = o.numeric as Array<string | number>;
    let lo = -1e9;
    let hi = 1e9;
    for (let i = 0; i < ops.length; i += 2) {
      const [op, n] = [ops[i], Number(ops[i + 1])];
      if (op === ">" || op === ">=") lo = Math.max(lo, op === ">" ? n + 1e-6 : n);
      if (op === "<" || op === "<=") hi = Math.min(hi, op === "<" ? n - 1e-6 : n);
      if (op === "=") lo = hi = n;
    }
    const v =
      lo <= 0 && hi >= 0
        ? 0
        : Number.isInteger(Math.ceil(lo)) && Math.ceil(lo) <= hi
          ? Math.ceil(lo)
          : lo;
    return { value: v };
  }
  if ("cidr" in o) return { value: String(o.cidr).split("/")[0] };
  return null;
}

function witnessObject(p: Pattern): Record<string, unknown> | null {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p)) {
    if (k === "$or") {
      const first = (v as Pattern[])[0];
      const w = first ? witnessObject(first) : null;
      if (!w) return null;
      Object.assign(out, w);
    } else if (Array.isArray(v)) {
      let chosen: { value?: unknown; absent?: boolean } | null = null;
      for (const m of v) {
        chosen = witnessValue(m);
        if (chosen) break;
      }
      if (!chosen) return null;
      if (!chosen.absent) out[k] = chosen.value;
    } else if (v && typeof v === "object") {
      const w = witnessObject(v as Pattern);
      if (!w) return null;
      out[k] = w;
    }
  }
  return out;
}

/** An event that matches `pattern`, or undefined when none could be built. */
export function witnessEvent(pattern: Pattern, i = 0): object | undefined {
  const w = witnessObject(pattern);
  if (!w) return undefined;
  const ev: Record<string, unknown> = {
    ...base("bench.source", "BenchEvent", {}, 1000 + i),
    detail: {},
  };
  for (const [k, v] of Object.entries(w)) {
    ev[k] = k === "detail" && v && typeof v === "object" ? { ...(v as object) } : v;
  }
  try {
    return matchesPattern(pattern, ev) ? ev : undefined;
  } catch {
    // A pattern EventBridge would reject has no event; the bench skips it.
    return undefined;
  }
}
