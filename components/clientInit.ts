// Where functions build their AWS SDK clients (handlers/lib/lazy.ts): pure, so the config table
// reads the same list the Lambda component takes.

/** Where functions build their AWS SDK clients: the `switchyard:lambdaClientInit` values. */
export const CLIENT_INIT_MODES = ["on-first-use", "at-init"] as const;
export type ClientInit = (typeof CLIENT_INIT_MODES)[number];

/** Where a function builds its clients unless told otherwise. */
export const DEFAULT_CLIENT_INIT: ClientInit = "on-first-use";
