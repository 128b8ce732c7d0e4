/**
 * The SDK ships subpath `exports` only; tsconfig uses classic "node" resolution, which ignores
 * them, so map each subpath we use to its dist typings (runtime require still uses `exports`).
 */
declare module '@grafana/grafana-foundation-sdk/dashboard' {
  export * from '@grafana/grafana-foundation-sdk/dist/dashboard/index';
}
declare module '@grafana/grafana-foundation-sdk/timeseries' {
  export * from '@grafana/grafana-foundation-sdk/dist/timeseries/index';
}
declare module '@grafana/grafana-foundation-sdk/prometheus' {
  export * from '@grafana/grafana-foundation-sdk/dist/prometheus/index';
}
declare module '@grafana/grafana-foundation-sdk/common' {
  export * from '@grafana/grafana-foundation-sdk/dist/common/index';
}
declare module '@grafana/grafana-foundation-sdk/cog' {
  export * from '@grafana/grafana-foundation-sdk/dist/cog/index';
}
