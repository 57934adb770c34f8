// The local secrets file (.switchyard/secrets.json): read, written all at once, and added to under a
// lock, so processes that start together (parallel test workers, two runs on a fresh clone) share
// one value per key. Only Node's own modules: a process that needs the file loads nothing else.
import * as fs from "fs";
import * as path from "path";
import { randomBytes } from "crypto";

/** The secrets in `file` (none when it does not exist); a file that is not a JSON object fails. */
export function readSecrets(file: string): Record<string, string> {
  if (!fs.existsSync(file)) return {};
  const text = fs.readFileSync(file, "utf8");
  const shown = path.relative(process.cwd(), file) || file;
  const fix = "fix it, or delete it and the run generates new local secrets";
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new Error(`${shown} is not valid JSON (${(e as Error).message}): ${fix}`, { cause: e });
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed))
    throw new Error(`${shown} must hold a JSON object of secrets by config key: ${fix}`);
  return parsed as Record<string, string>;
}

/**
 * Writes `secrets` to `file` (mode 0600) all at once: into a file of its own beside it, then
 * renamed over it, so that another process reading it at the same time (parallel test workers, two
 * runs started together on a fresh clone) sees the old content or the new, never a part of it.
 * `rename(2)` replaces the file atomically on the same filesystem; no library needed for that.
 */
export function writeSecrets(file: string, secrets: Record<string, string>): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const partial = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    fs.writeFileSync(partial, JSON.stringify(secrets, null, 2), { mode: 0o600 });
    fs.renameSync(partial, file);
  } finally {
    fs.rmSync(partial, { force: true });
  }
}

/**
 * The secret `key` of `file`, else one made by `generate` and added to the file. Processes that
 * start together on a fresh clone (parallel test workers, two runs) each find the keys missing:
 * the file is read again and written under a lock, so that every process ends up with the value
 * the file keeps, and none overwrites a key another has just added.
 */
export function secretInFile(
  file: string,
  key: string,
  generate: () => string,
): { value: string; generated: boolean } {
  const known = readSecrets(file)[key];
  if (known !== undefined) return { value: String(known), generated: false };
  return underLock(`${file}.lock`, () => {
    const current = readSecrets(file);
    if (current[key] !== undefined) return { value: String(current[key]), generated: false };
    const value = generate();
    writeSecrets(file, { ...current, [key]: value });
    return { value, generated: true };
  });
}

/** A lock older than this was left by a process that ended inside it (it holds it for a few ms). */
const STALE_LOCK_MS = 10_000;

/**
 * Runs `f` holding the lock file `lock`, created exclusively (O_EXCL): another process waits for
 * it. Synchronous, as its callers are: the lock libraries on npm lock asynchronously, or not at
 * all when synchronous (proper-lockfile's lockSync does not retry).
 */
function underLock<T>(lock: string, f: () => T): T {
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  const deadline = Date.now() + 2 * STALE_LOCK_MS;
  for (;;) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: "wx", mode: 0o600 });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const age =
        Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > STALE_LOCK_MS) fs.rmSync(lock, { force: true });
      else if (Date.now() > deadline)
        throw new Error(`${lock} is held by another run: delete it if no run is starting`, {
          cause: e,
        });
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
  try {
    return f();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}
