// `npx ts-node --transpile-only local/rehearsal/cli.ts [--stack dev|prod] [--endpoint URL]`
// Evaluates the program for the stack under mocks (as `npm start` does), creates what it declares
// in a moto_server of its own (or the one at --endpoint) and prints the rehearsal's report. Exits 1
// when moto rejected a value.
import "../polyfills";
import { startMotoServer } from "../motoServer";
import { loadProgram } from "../program";
import { applyToMoto, formatReport, REHEARSAL_MOTO_ENV } from "../rehearsal";

export function parseArgs(argv: string[]): { stack: string; endpoint?: string; verbose: boolean } {
  const out = { stack: "dev", endpoint: undefined as string | undefined, verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--stack") out.stack = next();
    else if (a === "--endpoint") out.endpoint = next();
    else if (a === "--verbose") out.verbose = true;
    else
      throw new Error(`unknown option ${a}; options: --stack dev|prod, --endpoint URL, --verbose`);
  }
  return out;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const [program, moto] = await Promise.all([
    loadProgram(args.stack),
    args.endpoint ? undefined : startMotoServer({ env: { ...REHEARSAL_MOTO_ENV } }),
  ]);
  try {
    const report = await applyToMoto(program.resources, args.endpoint ?? moto!.url, {
      failFast: false,
      archives: program.archives,
      log: args.verbose ? (line) => console.log(line) : undefined,
    });
    console.log(`rehearsal of stack ${args.stack} against ${report.endpoint}`);
    console.log(formatReport(report));
    return report.rejected.length > 0 ? 1 : 0;
  } finally {
    await moto?.stop();
  }
}

if (require.main === module)
  main().then(
    (code) => process.exit(code),
    (e) => {
      console.error((e as Error).message);
      process.exit(1);
    },
  );
