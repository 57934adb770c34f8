// Where a running `npm start` says what it serves: `npm run demo` and `npm run ops -- --local` read
// it; tests move it with SWITCHYARD_ENDPOINTS_FILE. Kept apart from local/cli.ts so readers do not
// load the runtime.
import * as path from "path";

export const ENDPOINTS_FILE =
  process.env.SWITCHYARD_ENDPOINTS_FILE ??
  path.join(__dirname, "..", ".switchyard", "endpoints.json");
