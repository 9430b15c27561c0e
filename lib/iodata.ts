import type { IOData } from './types';

/** Visits the leaves of iodata depth first, without recursion: it may nest arbitrarily deep. */
function everyLeaf(data: unknown, visit: (leaf: unknown) => boolean): boolean {
  const stack: unknown[] = [data];
  const open = new Set<unknown[]>();
  while (stack.length > 0) {
    const piece = stack.pop();
    if (Array.isArray(piece)) {
      // An array inside itself is no iodata: it has no end.
      if (open.has(piece)) return false;
      open.add(piece);
      for (let i = piece.length - 1; i >= 0; i--) stack.push(piece[i]);
    } else if (!visit(piece)) {
      return false;
    }
  }
  return true;
}

export function isIOData(data: unknown): data is IOData {
  return everyLeaf(data, (leaf) => typeof leaf === 'string' || leaf instanceof Uint8Array);
}

export function ioLength(data: unknown): number {
  let length = 0;
  everyLeaf(data, (leaf) => {
    length += typeof leaf === 'string' ? Buffer.byteLength(leaf) : leaf instanceof Uint8Array ? leaf.length : 0;
    return true;
  });
  return length;
}
