// docs/configuration.md's generated tables: the keys (with each stack's committed value), the
// secrets and the rules between keys, from config/keys.ts and config/rules.ts; and
// docs/webhooks.md's provider tables, from the webhook provider modules. Pure (no Pulumi).
import { PROVIDER_MODULES, ProviderModule } from "../handlers/webhooks/providers";
import { ConfigKey, KEYS, PREVIOUS_SECRET_SUFFIX, SECRETS } from "./keys";
import { NAMESPACE } from "./kinds";
import { RULES } from "./rules";

export const STACKS = ["dev", "prod"] as const;

/** The markers around each generated part of docs/configuration.md. */
export const SECTIONS = ["keys", "secrets", "rules"] as const;
export type Section = (typeof SECTIONS)[number];
export const begin = (s: Section) =>
  `<!-- generated:${s} (npm run docs, from config/keys.ts and config/rules.ts) -->`;
export const end = (s: Section) => `<!-- /generated:${s} -->`;

const code = (s: string) => "`" + s + "`";

/** The docs' meaning cell of a key: its doc with its range, and a pointer to its rules. */
export function meaning(key: ConfigKey): string {
  const d = KEYS[key];
  const range = "range" in d ? d.range : undefined;
  let text = d.doc;
  if (text.includes("{range}")) text = text.replace("{range}", range ?? "");
  else if (d.kind === "int" && range) text = `${text} (${range})`;
  if (RULES.some((r) => r.keys.includes(key))) text += "; see [rules](#rules-between-keys)";
  return text;
}

/** A stack's committed value of a key, as the docs show it. */
function stackCell(key: ConfigKey, stack: Record<string, string>): string {
  const v = stack[`${NAMESPACE}:${key}`];
  if (v !== undefined) return code(v);
  return KEYS[key].default === undefined ? "unset" : "default";
}

/** The generated markdown of one section; `stacks` maps a stack to its `config:` strings. */
export function renderSection(
  section: Section,
  stacks: Record<(typeof STACKS)[number], Record<string, string>>,
): string {
  const rows: string[] = [];
  if (section === "keys") {
    rows.push(`| key | default | ${STACKS.join(" | ")} | meaning |`);
    rows.push(`|---|---|${STACKS.map(() => "---|").join("")}---|`);
    for (const key of Object.keys(KEYS) as ConfigKey[]) {
      const cells = STACKS.map((s) => stackCell(key, stacks[s]));
      rows.push(
        `| ${code(key)} | ${KEYS[key].defaultDoc} | ${cells.join(" | ")} | ${meaning(key)} |`,
      );
    }
  } else if (section === "secrets") {
    rows.push("| secret | command |", "|---|---|");
    for (const s of SECRETS) {
      const cmd = code(`pulumi config set --secret ${NAMESPACE}:${s.key} ${s.placeholder}`);
      rows.push(
        `| ${code(s.key)} | ${cmd}${s.provider ? ` (when ${code(s.provider)} is enabled)` : ""} |`,
      );
    }
    const rotating = SECRETS.filter((s) => s.provider !== undefined);
    rows.push(
      `| ${code(`<any of the ${rotating.length}>${PREVIOUS_SECRET_SUFFIX}`)} | optional, during a rotation: ${code(`pulumi config set --secret ${NAMESPACE}:${rotating[0].key}${PREVIOUS_SECRET_SUFFIX} <old secret>`)} |`,
    );
  } else {
    rows.push("| keys | rule |", "|---|---|");
    for (const r of RULES) rows.push(`| ${r.keys.map(code).join(", ")} | ${r.doc} |`);
  }
  return rows.join("\n");
}

/** `doc` with every generated section replaced by its current text. */
export function regenerate(
  doc: string,
  stacks: Record<(typeof STACKS)[number], Record<string, string>>,
): string {
  let out = doc;
  for (const s of SECTIONS) {
    const i = out.indexOf(begin(s));
    const j = out.indexOf(end(s));
    if (i < 0 || j < i) throw new Error(`docs/configuration.md has no ${begin(s)} ... ${end(s)}`);
    out = out.slice(0, i) + `${begin(s)}\n${renderSection(s, stacks)}\n` + out.slice(j);
  }
  return out;
}

/** The markers around each generated part of docs/webhooks.md. */
export const WEBHOOK_SECTIONS = ["schemes", "replays"] as const;
export type WebhookSection = (typeof WEBHOOK_SECTIONS)[number];
export const webhookBegin = (s: WebhookSection) =>
  `<!-- generated:${s} (npm run docs, from handlers/webhooks/providers) -->`;
export const webhookEnd = (s: WebhookSection) => `<!-- /generated:${s} -->`;

/** Every provider's docs rows, in the registry's order, each with its provider cell. */
function providerRows() {
  return (PROVIDER_MODULES as readonly ProviderModule[]).flatMap((m) =>
    m.docs.map((row) => ({ ...row, label: row.label ?? code(m.name) })),
  );
}

/**
 * A generated table of docs/webhooks.md: each scheme's signature, window, ids and detail-type; or
 * what a resent capture becomes and the residual risk, schemes with the same answers in one row.
 */
export function renderWebhookSection(section: WebhookSection): string {
  const rows: string[] = [];
  if (section === "schemes") {
    rows.push(
      "| provider | signature (over the exact body bytes; base64 bodies decoded first) | replay window | delivery id (a label) | deduplication key (signed) | detail-type |",
      "|---|---|---|---|---|---|",
    );
    for (const r of providerRows()) {
      rows.push(
        `| ${r.label} | ${r.signature} | ${r.replayWindow} | ${r.deliveryId} | ${r.deduplicationKey} | ${r.detailType} |`,
      );
    }
  } else {
    rows.push("| provider | a captured delivery resent... | residual risk |", "|---|---|---|");
    const groups = new Map<string, { labels: string[]; resent: string; risk: string }>();
    for (const r of providerRows()) {
      const k = JSON.stringify([r.resent, r.residualRisk]);
      const g = groups.get(k) ?? { labels: [], resent: r.resent, risk: r.residualRisk };
      g.labels.push(r.label);
      groups.set(k, g);
    }
    for (const g of groups.values())
      rows.push(`| ${g.labels.join(", ")} | ${g.resent} | ${g.risk} |`);
  }
  return rows.join("\n");
}

/** docs/webhooks.md with every generated table replaced by its current text. */
export function regenerateWebhooks(doc: string): string {
  let out = doc;
  for (const s of WEBHOOK_SECTIONS) {
    const i = out.indexOf(webhookBegin(s));
    const j = out.indexOf(webhookEnd(s));
    if (i < 0 || j < i)
      throw new Error(`docs/webhooks.md has no ${webhookBegin(s)} ... ${webhookEnd(s)}`);
    out = out.slice(0, i) + `${webhookBegin(s)}\n${renderWebhookSection(s)}\n` + out.slice(j);
  }
  return out;
}
