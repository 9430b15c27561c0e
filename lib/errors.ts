import os from 'node:os';
import { getSystemErrorMap } from 'node:util';

/**
 * The contract's own reasons: `'timeout'` (nothing came in time), `'closed'` (the socket is
 * closed), `'not_owner'` (another thread owns the socket), `'badarg'` (a bad argument),
 * `'system_limit'`, `'protocol_not_negotiated'` (plain UDP, from `negotiatedProtocol`),
 * `'enotsup'` (what the transport cannot do: DgramUDP, or the addon where it cannot run),
 * `'aborted'` (an AbortSignal ended the wait), `'nxdomain'` (a host name that does not
 * resolve), `'unknown'` (an errno without a name).
 *
 * @example
 * const retry = (reason: ContractReason) => reason === 'timeout';
 */
export type ContractReason =
  | 'timeout' | 'closed' | 'not_owner' | 'badarg' | 'system_limit' | 'protocol_not_negotiated' | 'enotsup' | 'aborted'
  | 'nxdomain' | 'unknown';

/**
 * A POSIX errno name in lowercase, as `inet:posix()` spells it (`'eaddrinuse'`,
 * `'econnrefused'`, `'eperm'`, …): a system call failed, and the error's `syscall` says which.
 *
 * @example
 * const unreachable = (reason: PosixReason) => reason === 'ehostunreach' || reason === 'enetunreach';
 */
export type PosixReason = Lowercase<Extract<keyof typeof import('node:os').constants.errno, string>> | 'enonet' | 'eshutdown' | 'ehostdown' | 'esocktnosupport';

/**
 * Every reason a TransportError of this package can have: the contract's and the errno names.
 *
 * @example
 * switch ((error as TransportError).reason satisfies TransportReason) { case 'timeout': break; }
 */
export type TransportReason = ContractReason | PosixReason;

/**
 * Every failure of this package: synchronous calls throw it, calls that wait reject with it.
 * `reason` is the contract's lowercase atom (or the errno's name), `code` the same in upper
 * case as Node's errors have it, `syscall` and `errno` are there when a system call failed,
 * and the message names the operation (and for a bad option, the option, the value and what
 * it expects): `setopts: bad value for option 'ttl': 300, expected an integer from 1 to 255`.
 * `instanceof TransportError` also recognises the errors of another copy of the package.
 *
 * @example
 * try {
 *   await UDP.recv(socket, 0, 1000);
 * } catch (error) {
 *   if (!(error instanceof TransportError) || error.reason !== 'timeout') throw error;
 * }
 */
export class TransportError extends Error {
  /** The contract's atom: `'timeout'`, `'closed'`, `'badarg'`, … or an errno name (`'econnrefused'`). */
  readonly reason: TransportReason;
  /** `reason` in upper case, Node's habit (`'ECONNREFUSED'`). */
  readonly code: Uppercase<TransportReason>;
  /** The system call that failed (`'bind'`, `'sendmsg'`, `'setsockopt'`, …), when one did. */
  declare readonly syscall?: string;
  /** The errno, when a system call failed (98 for `eaddrinuse`). */
  declare readonly errno?: number;

  /**
   * Two copies of the package in one process make two classes: `instanceof` recognises the
   * other copy's errors too (a `TransportError` by name with a string `reason`).
   *
   * @example
   * otherCopyError instanceof TransportError; // true
   */
  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Error).name === 'TransportError' &&
      typeof (value as TransportError).reason === 'string';
  }

  /**
   * Made by the package; a transport of your own may make them too.
   *
   * @example
   * throw new TransportError('timeout', 'recv: nothing arrived in time');
   */
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
