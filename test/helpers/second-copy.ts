/**
 * A second install of the package in this process (two versions in node_modules, a bundler's
 * second copy): its own compiled facade (dist/), and the same addon file, found where
 * node-gyp-build looks for it — build/ after a source build, prebuilds/ in a shipped package
 * (the suite on newer Nodes runs on the prebuild alone) — so require() loads the addon once.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.join(__dirname, '..', '..');

export interface SecondCopy {
  /** The copy's exports, as `require('abyss-transport')` gives them there. */
  exports: typeof import('../../lib');
  /** Removes the copy's directory. */
  remove(): void;
}

/** Installs and loads the copy; throws unless it runs on the addon, as this copy does. */
export function loadSecondCopy(prefix: string): SecondCopy {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const remove = (): void => fs.rmSync(dir, { recursive: true, force: true });
  fs.cpSync(path.join(root, 'dist'), path.join(dir, 'dist'), { recursive: true });
  fs.copyFileSync(path.join(root, 'package.json'), path.join(dir, 'package.json'));
  for (const entry of ['build', 'prebuilds', 'node_modules']) {
    if (fs.existsSync(path.join(root, entry))) fs.symlinkSync(path.join(root, entry), path.join(dir, entry));
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const exports: typeof import('../../lib') = require(path.join(dir, 'dist'));
  if (!exports.isNative) {
    remove();
    throw new Error(`the second copy in ${dir} is not on the addon: ${exports.nativeUnavailable?.message ?? '?'}`);
  }
  return { exports, remove };
}
