// The webhook providers: one module each (./<name>.ts), listed once here. The provider names, the
// receiver's specs, the stack's secret and public URL keys, local secrets, the demo's deliveries
// and the docs tables all follow from this list: adding a provider is a new module and one entry.
import { githubProvider } from "./github";
import { hmacProvider } from "./hmac";
import { ProviderModule, ProviderSpec } from "./module";
import { standardProvider } from "./standard";
import { stripeProvider } from "./stripe";
import { twilioProvider } from "./twilio";

export { MalformedRequest } from "./module";
export type { ParsedDelivery, ProviderModule, ProviderSpec, SignedDelivery } from "./module";

/** Every provider module, in the order receivers are declared and listed. */
export const PROVIDER_MODULES = [
  githubProvider,
  twilioProvider,
  stripeProvider,
  standardProvider,
  hmacProvider,
] as const;

export type ProviderModules = (typeof PROVIDER_MODULES)[number];
export type Provider = ProviderModules["name"];

export const PROVIDERS: readonly Provider[] = PROVIDER_MODULES.map((m) => m.name);

export function isProvider(p: string): p is Provider {
  return (PROVIDERS as readonly string[]).includes(p);
}

/** Each provider's module, by name. */
export const PROVIDER_MODULE: { readonly [P in Provider]: Extract<ProviderModules, { name: P }> } =
  Object.fromEntries(PROVIDER_MODULES.map((m) => [m.name, m])) as never;

/** The module of a provider name (a string from a URL, a config value...); throws for another. */
export function providerModule(p: string): ProviderModule<Provider> {
  if (!isProvider(p)) throw new Error(`"${p}" is not one of ${PROVIDERS.join(", ")}`);
  return PROVIDER_MODULE[p];
}

/** What the receiver runs per provider (each module's `spec`). */
export const PROVIDER_SPECS: Record<Provider, ProviderSpec> = Object.fromEntries(
  PROVIDER_MODULES.map((m) => [m.name, m.spec]),
) as Record<Provider, ProviderSpec>;

/** The modules whose signature covers the URL (a public URL key of the stack names it). */
export type UrlSigningProvider = Extract<ProviderModules, { publicUrl: object }>;

/** The providers whose signature covers the URL, by name. */
export const URL_SIGNING_PROVIDERS: readonly Provider[] = PROVIDER_MODULES.filter(
  (m) => (m as ProviderModule).publicUrl !== undefined,
).map((m) => m.name);

/** The modules whose receiver is configured with one of several schemes (a config key chooses). */
export type SchemeProvider = Extract<ProviderModules, { schemes: object }>;

/** The providers with several schemes, by name. */
export const SCHEME_PROVIDERS: readonly Provider[] = PROVIDER_MODULES.filter(
  (m) => (m as ProviderModule).schemes !== undefined,
).map((m) => m.name);

/** The modules whose senders can start a record verification. */
export type VerificationRequestProvider = Extract<
  ProviderModules,
  { verificationRequests: object }
>["name"];

/**
 * Where each provider whose senders can start a record verification carries the request in its
 * event, by provider name in alphabetical order (as the config's docs and errors list them).
 */
export const VERIFICATION_REQUEST_PATHS = Object.fromEntries(
  (PROVIDER_MODULES as readonly ProviderModule[])
    .flatMap((m) => (m.verificationRequests ? [[m.name, m.verificationRequests.recordPath]] : []))
    // Code-point order, not localeCompare: the first localeCompare in a process loads ICU's
    // collation data, about 5 ms of every receiver's cold start (provider names are ASCII).
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
) as Record<VerificationRequestProvider, string>;

/** The spec a receiver runs: the provider's, in the scheme it is configured with (default the first). */
export function providerSpec(provider: Provider, scheme?: string): ProviderSpec {
  const m: ProviderModule = PROVIDER_MODULE[provider];
  return m.schemes ? m.schemes.spec(scheme ?? m.schemes.values[0]) : m.spec;
}
