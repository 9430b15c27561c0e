import os from 'node:os';
import { getSystemErrorMap } from 'node:util';

/** The contract's own reasons (CONTRACT.md, Errors). */
export type ContractReason =
  | 'timeout' | 'closed' | 'not_owner' | 'badarg' | 'system_limit' | 'protocol_not_negotiated' | 'enotsup' | 'aborted'
  | 'nxdomain' | 'unknown';

/** A POSIX errno name in lowercase, as inet:posix() spells it (`'eaddrinuse'`, `'econnrefused'`, …). */
export type PosixReason = Lowercase<Extract<keyof typeof import('node:os').constants.errno, string>> | 'enonet' | 'eshutdown' | 'ehostdown' | 'esocktnosupport';

/** Every reason a TransportError of this package can have. */
export type TransportReason = ContractReason | PosixReason;

/** Every failure of this package: `reason` is the contract's lowercase atom. */
export class TransportError extends Error {
  /** The contract's atom: `'timeout'`, `'closed'`, `'badarg'`, … or an errno name (`'econnrefused'`). */
  readonly reason: TransportReason;
  /** `reason` in upper case, Node's habit (`'ECONNREFUSED'`). */
  readonly code: Uppercase<TransportReason>;
  declare readonly syscall?: string;
  declare readonly errno?: number;

  /**
   * Two copies of the package in one process make two classes: recognise each other's errors.
   */
  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Error).name === 'TransportError' &&
      typeof (value as TransportError).reason === 'string';
  }

  constructor(reason: TransportReason, message: string, syscall?: string, errno?: number) {
    super(message);
    this.name = 'TransportError';
    this.reason = reason;
    this.code = reason.toUpperCase() as Uppercase<TransportReason>;
    if (syscall !== undefined) this.syscall = syscall;
    if (errno !== undefined) this.errno = errno;
  }
}

export function badarg(operation: string, what: string): TransportError {
  return new TransportError('badarg', `${operation}: ${what}`);
}

export function closedError(operation: string): TransportError {
  return new TransportError('closed', `${operation}: socket is closed`);
}

export function notOwnerError(operation: string): TransportError {
  return new TransportError('not_owner', `${operation}: this thread does not own the socket`);
}

/** What a transport cannot do: `what` says why. */
export function enotsup(operation: string, what: string): TransportError {
  return new TransportError('enotsup', `${operation}: ${what}`);
}

/** A value as an error message shows it: short, never throwing, whatever the value is. */
export function show(value: unknown): string {
  if (typeof value === 'string') return value.length > 80 ? `'${value.slice(0, 77)}...' (${value.length} chars)` : `'${value}'`;
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'symbol' || typeof value === 'function') return `[${typeof value}]`;
  try {
    const text = JSON.stringify(value) ?? String(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    return Array.isArray(value) ? '[array]' : '[object]';
  }
}

/**
 * errno → inet:posix()'s name. Node knows most names; where two share a number, inet's
 * spelling wins (EOPNOTSUPP over ENOTSUP).
 */
const ERRNO_NAMES = new Map<number, PosixReason>();
for (const [name, number] of Object.entries(os.constants.errno)) {
  if (!ERRNO_NAMES.has(number) || name === 'EOPNOTSUPP') ERRNO_NAMES.set(number, name.toLowerCase() as PosixReason);
}
const DESCRIPTIONS = getSystemErrorMap();
for (const [negative, [name]] of DESCRIPTIONS) {
  // libuv's own codes (EOF, EAI_*) are far above any errno.
  if (-negative < 1000 && !ERRNO_NAMES.has(-negative)) ERRNO_NAMES.set(-negative, name.toLowerCase() as PosixReason);
}

/** inet:posix()'s name of an errno, `'unknown'` when it has none. */
export function errnoReason(errno: number): PosixReason | 'unknown' {
  return ERRNO_NAMES.get(errno) ?? 'unknown';
}

/** A failed system call: the reason is the errno's name. */
export function systemError(operation: string, syscall: string, errno: number, detail = ''): TransportError {
  const reason = errnoReason(errno);
  const description = DESCRIPTIONS.get(-errno)?.[1];
  return new TransportError(reason, `${operation}: ${syscall}${detail} failed: ${reason}${description ? ` (${description})` : ''}`, syscall, errno);
}
