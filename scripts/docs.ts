// npm run docs: regenerates docs/configuration.md's tables from the config key table, the rules
// between keys and the committed stack files. `--check` only reports whether the file is current.
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";
import { regenerate, STACKS } from "../config/docs";

const ROOT = path.join(__dirname, "..");
export const CONFIG_DOC = path.join(ROOT, "docs", "configuration.md");

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

if (require.main === module) {
  const next = generatedConfigDoc();
  const current = fs.readFileSync(CONFIG_DOC, "utf8");
  if (process.argv.includes("--check")) {
    if (next !== current) {
      console.error("docs/configuration.md is out of date: run npm run docs");
      process.exit(1);
    }
  } else if (next !== current) {
    fs.writeFileSync(CONFIG_DOC, next);
    console.log("docs/configuration.md regenerated");
  } else console.log("docs/configuration.md is current");
}
