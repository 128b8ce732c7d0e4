export * from './distributions';
export * from './profiles';
