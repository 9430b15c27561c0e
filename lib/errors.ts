/** Every failure of this package: `reason` is the contract's lowercase atom. */
export class TransportError extends Error {
  readonly reason: string;
  readonly code: string;
  declare readonly syscall?: string;
  declare readonly errno?: number;

  /**
   * Two copies of the package in one process share the native side, and with it the
   * class their errors are made from: recognise each other's errors.
   */
  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Error).name === 'TransportError' &&
      typeof (value as TransportError).reason === 'string';
  }

  constructor(reason: string, message: string, syscall?: string, errno?: number) {
    super(message);
    this.name = 'TransportError';
    this.reason = reason;
    this.code = reason.toUpperCase();
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
