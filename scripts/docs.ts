// npm run docs: regenerates docs/configuration.md's tables from the config key table, the rules
// between keys and the committed stack files, and docs/webhooks.md's provider tables from the
// webhook provider modules. `--check` only reports whether the files are current.
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";
import { regenerate, regenerateWebhooks, STACKS } from "../config/docs";

const ROOT = path.join(__dirname, "..");
export const CONFIG_DOC = path.join(ROOT, "docs", "configuration.md");
export const WEBHOOKS_DOC = path.join(ROOT, "docs", "webhooks.md");

/** The `config:` map of Pulumi.<stack>.yaml, as strings the way the CLI passes them. */
export function stackFile(stack: string): Record<string, string> {
  const doc = yaml.load(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as {
    config?: Record<string, unknown>;
  };
  return Object.fromEntries(
    Object.entries(doc.config ?? {}).map(([k, v]) => [
      k,
      typeof v === "string" ? v : JSON.stringify(v),
    ]),
  );
}

export function generatedConfigDoc(): string {
  const stacks = Object.fromEntries(STACKS.map((s) => [s, stackFile(s)])) as Record<
    (typeof STACKS)[number],
    Record<string, string>
  >;
  return regenerate(fs.readFileSync(CONFIG_DOC, "utf8"), stacks);
}

export function generatedWebhooksDoc(): string {
  return regenerateWebhooks(fs.readFileSync(WEBHOOKS_DOC, "utf8"));
}

if (require.main === module) {
  let stale = false;
  for (const [file, next] of [
    [CONFIG_DOC, generatedConfigDoc()],
    [WEBHOOKS_DOC, generatedWebhooksDoc()],
  ]) {
    const name = path.relative(ROOT, file);
    const current = fs.readFileSync(file, "utf8");
    if (process.argv.includes("--check")) {
      if (next !== current) {
        console.error(`${name} is out of date: run npm run docs`);
        stale = true;
      }
    } else if (next !== current) {
      fs.writeFileSync(file, next);
      console.log(`${name} regenerated`);
    } else console.log(`${name} is current`);
  }
  if (stale) process.exit(1);
}
