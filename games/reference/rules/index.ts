export * from './model';
export * from './checksum';
export * from './protocol';
export * from './snapshot';
export * from './guild-bank';
