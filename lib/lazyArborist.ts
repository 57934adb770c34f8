// @pulumi/pulumi's runtime index loads its closure code-path scanner (runtime/closure/codePaths.js),
// which requires npm's @npmcli/arborist, and with it pacote, the vulnerability calculator and about
// 300 more modules, as @pulumi/pulumi itself is loaded: about 230 ms of CPU in every process that
// imports it (570 ms to load @pulumi/pulumi, 340 ms without them, on this machine). The scan walks
// a package tree to choose what a default CallbackFunction archive holds; this program's functions
// are bundled by esbuild (components/lambda.ts) and the scan is never run, yet `pulumi preview`,
// `pulumi up`, every test worker, `npm start` and every operator tool paid the load.
//
// Loaded before @pulumi/pulumi (index.ts imports this module first; local/polyfills.ts, which the
// local entry points load first, imports it too), this module puts a stand-in in the module cache
// that loads the real package on first use of any of its exports, so a scan that does run gets
// npm's own Arborist. The Pulumi language host does not load @pulumi/pulumi's runtime index before
// it requires the program (its cmd/run modules load settings, stack and the V8 hooks only), so
// `pulumi preview` and `pulumi up` defer it too. A process where arborist is already loaded keeps it.
import * as path from "path";

/** The file `require("@npmcli/arborist")` resolves to from @pulumi/pulumi, if it is installed. */
function arboristPath(): string | undefined {
  try {
    const pulumiDir = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
    return require.resolve("@npmcli/arborist", { paths: [pulumiDir] });
  } catch {
    return undefined;
  }
}

/** Puts the stand-in in the module cache; false when arborist is missing or already loaded. */
export function deferArborist(): boolean {
  const file = arboristPath();
  if (!file || require.cache[file]) return false;
  let real: Record<string | symbol, unknown> | undefined;
  const load = () => {
    if (!real) {
      // The real package takes the cache entry from here on; modules that already hold the
      // stand-in keep reading through it.
      if (require.cache[file] === stand) delete require.cache[file];
      real = require(file) as Record<string | symbol, unknown>;
    }
    return real;
  };
  // TypeScript's __importStar returns an ES module's namespace object as it is, so each export is
  // read through `get` at its first use rather than copied when codePaths.js is loaded.
  const exports = new Proxy(Object.create(null) as Record<string | symbol, unknown>, {
    get: (_, key) => (key === "__esModule" ? true : load()[key]),
    has: (_, key) => key === "__esModule" || key in load(),
    ownKeys: () => Reflect.ownKeys(load()),
    getOwnPropertyDescriptor: (_, key) => {
      const d = Reflect.getOwnPropertyDescriptor(load(), key);
      return d && { ...d, configurable: true };
    },
  });
  const stand = new (require("module") as typeof import("module"))(file, module);
  stand.filename = file;
  stand.loaded = true;
  stand.exports = exports;
  // The stand-in is a Module in all but its exports; Node's own Module type is not exported as a class here.
  require.cache[file] = stand as unknown as NodeJS.Module;
  return true;
}

deferArborist();
