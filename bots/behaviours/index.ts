export * from '../../core/distributions';
export * from './profiles';
