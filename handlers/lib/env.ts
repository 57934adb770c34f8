/**
 * Reads a required environment variable at cold start; a missing or empty one fails the init
 * naming the variable (and what it should hold, when given).
 */
export function requireEnv(name: string, what?: string): string {
  const v = process.env[name];
  if (v === undefined || v === "") throw new Error(`${name} is not set${what ? ` (${what})` : ""}`);
  return v;
}
