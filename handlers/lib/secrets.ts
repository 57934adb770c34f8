// Secrets Manager reads for handlers: one GetSecretValue per secret and TTL, concurrent readers of
// the same secret share one call, and a failed refresh falls back to the last value read (a
// Secrets Manager hiccup must not turn into rejected webhooks while the value is still known).
import { sdkSecretsManager } from "./lazy";

export interface SecretReaderOptions {
  /** A SecretsManagerClient (anything with its `send`). */
  client: { send(command: any): Promise<any> };
  /** How long a value is served from memory, in ms. Default 60000. */
  ttlMs?: number;
  /** Clock in ms (tests pass a fake). Default Date.now. */
  now?: () => number;
}

export interface GetOptions {
  /** Serve the cached value only if it was read at most this many ms ago. Default: the TTL. */
  maxAgeMs?: number;
}

export interface SecretReader {
  /** The SecretString of a secret (ARN or name). */
  get(secretArn: string, options?: GetOptions): Promise<string>;
  /**
   * The signing secrets a receiver accepts, current first: the secret holds either a plain string
   * (the current secret only) or JSON `{"current": "...", "previous": "..."}` during a rotation.
   */
  getSigningSecrets(secretArn: string, options?: GetOptions): Promise<string[]>;
  /** Milliseconds since the cached value was read, undefined when none is cached. */
  ageMs(secretArn: string): number | undefined;
}

/** Parses a signing secret value: JSON {current, previous?} or a plain string (current only). */
export function parseSigningSecrets(value: string): string[] {
  const trimmed = value.trim();
  if (trimmed.startsWith("{")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      parsed = undefined;
    }
    if (parsed && typeof parsed === "object") {
      const { current, previous } = parsed as { current?: unknown; previous?: unknown };
      if (typeof current !== "string" || current === "") {
        throw new Error('signing secret JSON must have a non-empty string "current"');
      }
      const out = [current];
      if (typeof previous === "string" && previous !== "" && previous !== current)
        out.push(previous);
      return out;
    }
  }
  if (value === "") throw new Error("signing secret is empty");
  return [value];
}

export function makeSecretReader(o: SecretReaderOptions): SecretReader {
  const ttlMs = o.ttlMs ?? 60_000;
  const now = o.now ?? Date.now;
  const cache = new Map<string, { value: string; readAt: number }>();
  const inflight = new Map<string, Promise<string>>();

  const fetch = (arn: string): Promise<string> => {
    const running = inflight.get(arn);
    if (running) return running;
    const p = (async () => {
      try {
        const out = await o.client.send(
          new (sdkSecretsManager().GetSecretValueCommand)({ SecretId: arn }),
        );
        if (typeof out?.SecretString !== "string") {
          throw new Error(`secret ${arn} has no SecretString (binary secrets are not supported)`);
        }
        cache.set(arn, { value: out.SecretString, readAt: now() });
        return out.SecretString as string;
      } catch (err) {
        const stale = cache.get(arn);
        if (stale && isTransient(err)) return stale.value;
        throw err;
      } finally {
        inflight.delete(arn);
      }
    })();
    inflight.set(arn, p);
    return p;
  };

  const reader: SecretReader = {
    async get(arn, options) {
      const maxAge = Math.min(options?.maxAgeMs ?? ttlMs, ttlMs);
      const hit = cache.get(arn);
      if (hit && now() - hit.readAt < maxAge) return hit.value;
      return fetch(arn);
    },
    async getSigningSecrets(arn, options) {
      return parseSigningSecrets(await reader.get(arn, options));
    },
    ageMs(arn) {
      const hit = cache.get(arn);
      return hit ? now() - hit.readAt : undefined;
    },
  };
  return reader;
}

/** Errors after which a known value is better than none: throttling, 5xx, network. */
function isTransient(err: unknown): boolean {
  const e = err as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  if (!e || typeof e !== "object") return false;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined)
    return status >= 500 || status === 429 || e.name === "ThrottlingException";
  const transient = ["TimeoutError", "ECONNRESET", "ECONNREFUSED", "ETIMEDOUT", "EAI_AGAIN"];
  return transient.includes(e.name ?? "") || transient.includes(e.code ?? "");
}
