// The one place that knows which toolchain releases exist. Detection resolves aliases (`lts/*`,
// codenames, `latest`) and version ranges against these tables, so updating NixSpace for a new
// release means editing this file only. Dates: as of late 2026.

/** Node.js LTS codenames → major. Every even major since 4 got one. */
export const nodeCodenames: Readonly<Record<string, number>> = {
  argon: 4,
  boron: 6,
  carbon: 8,
  dubnium: 10,
  erbium: 12,
  fermium: 14,
  gallium: 16,
  hydrogen: 18,
  iron: 20,
  jod: 22,
  krypton: 24,
};

/** What `lts/*` means today: the newest major in LTS (Node 26 enters LTS in October 2026). */
export const nodeCurrentLts = 24;
/** What `node`, `latest`, `current` and `stable` mean: the newest released major. */
export const nodeNewest = 26;
/** Majors NixSpace can build; older ones are end-of-life and gone from current nixpkgs. */
export const nodeSupportedMajors: readonly number[] = [20, 22, 24, 25, 26];

/** Python 3.x minors that exist as stable releases, newest last (3.15 is still a prerelease). */
export const pythonStableMinors: readonly number[] = [8, 9, 10, 11, 12, 13, 14];
export const pythonNewest = '3.14';
/** Oldest Python minor NixSpace builds; older ones are end-of-life. */
export const pythonOldestSupportedMinor = 10;

/** Ruby release lines (major.minor), newest last. */
export const rubyLines: readonly string[] = ['2.7', '3.0', '3.1', '3.2', '3.3', '3.4', '4.0'];
export const rubyNewest = '4.0';
export const rubyOldestSupported = '3.2';

/** Go release lines: anything 1.x up to the newest is installable through the toolchain mechanism. */
export const goNewest = '1.26';
