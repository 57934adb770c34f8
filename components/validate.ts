// Argument validation shared by the components: every error names the argument and the fix.

/** Throws unless `value` is an integer within [min, max]. */
export function checkIntRange(what: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(
      `${what} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`,
    );
  }
}

/** Throws unless `value` is an https:// URL without a trailing slash. */
export function checkHttpsUrl(what: string, value: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${what} must be an https:// URL, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== "https:") {
    throw new Error(
      `${what} must use https:// (EventBridge API destinations and Step Functions HTTP tasks only call HTTPS), got ${JSON.stringify(value)}`,
    );
  }
  if (value.endsWith("/")) {
    throw new Error(`${what} must not end with "/", got ${JSON.stringify(value)}`);
  }
}

/** Names of AWS resources that the components derive from: letters, digits, hyphens. */
export function checkName(what: string, value: string, max = 40): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9-]*$/.test(value) || value.length > max) {
    throw new Error(
      `${what} must be 1-${max} letters, digits or hyphens, starting with a letter or digit, got ${JSON.stringify(value)}`,
    );
  }
}
