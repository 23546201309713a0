/**
 * The mcsec error family (STYLE.md §4): a stable code, the field at fault (a dotted path into the
 * input) and the rule that failed, with the clause that states it.
 */
import type { ErrorCode } from './codes.js';

/** Where an error happened and what was required there. */
export interface ErrorSite {
  readonly field: string;
  readonly rule: string;
  readonly clause?: string;
}

/** Base of every error mcsec throws on purpose. */
export class McsecError extends Error {
  readonly code: ErrorCode;
  readonly field: string;
  readonly rule: string;
  readonly clause: string | undefined;
  constructor(code: ErrorCode, site: ErrorSite) {
    super(`${site.field} ${site.rule}${site.clause !== undefined ? ` (${site.clause})` : ''}`);
    this.name = new.target.name;
    this.code = code;
    this.field = site.field;
    this.rule = site.rule;
    this.clause = site.clause;
  }
  /** A plain object for JSON output: `{code, field, rule, clause, message}`. */
  toJSON(): { code: string; field: string; rule: string; clause?: string; message: string } {
    const out = { code: this.code, field: this.field, rule: this.rule, message: this.message };
    return this.clause === undefined ? out : { ...out, clause: this.clause };
  }
}

/** Bytes, text or XML that do not decode. */
export class FormatError extends McsecError {}
/** A signature, MAC, key validation or decryption failed. */
export class CryptoError extends McsecError {}
/** Well-formed but refused: replay, stale key, not allowed. */
export class PolicyError extends McsecError {}
/** Bad configuration or command-line usage, found before any work starts. */
export class ConfigError extends McsecError {}
