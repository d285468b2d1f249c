// A repo that brings its own flake.nix is used as-is: the generated flake steps aside.

import type { Detector, Fragment } from '../detector.js';

export const flakeDetector: Detector = {
  name: 'flake',
  async detect(ctx): Promise<Fragment> {
    const entry = ctx.root.get('flake.nix');
    if (!entry || entry.kind === 'dir') return {};
    return { flake: { present: true, file: 'flake.nix' } };
  },
};
