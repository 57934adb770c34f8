// docs/configuration.md's generated tables: the keys (with each stack's committed value), the
// secrets and the rules between keys, from config/keys.ts and config/rules.ts. Pure (no Pulumi).
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
