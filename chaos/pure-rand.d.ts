/**
 * pure-rand ships subpath `exports` only; tsconfig uses classic "node" resolution, which ignores
 * them, so map the subpaths we use to their typings (runtime require still uses `exports`).
 */
declare module 'pure-rand/generator/mersenne' {
  export * from 'pure-rand/lib/generator/mersenne';
}
declare module 'pure-rand/distribution/uniformFloat64' {
  export * from 'pure-rand/lib/distribution/uniformFloat64';
}
