// The logger every handler takes: the part of Powertools' Logger it calls, so a test can pass a
// recording logger and the deployed function passes Powertools' own (built in its createX()).
import type { CorrelatedLogger } from "./correlation";

/** Structured fields of one log line (Powertools' LogAttributes). */
export type LogFields = Record<string, unknown>;

export interface LoggerLike extends CorrelatedLogger {
  info(message: string, ...extra: LogFields[]): void;
  warn(message: string, ...extra: LogFields[]): void;
  error(message: string, ...extra: LogFields[]): void;
}

/** A logger that drops everything (default when a test passes none). */
export const SILENT: LoggerLike = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
