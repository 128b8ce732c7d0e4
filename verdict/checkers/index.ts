/** Every built-in checker, by name. */
import type { Checker, CheckName } from '../types';
import { ackedDurable } from './acked-durable';
import { exactlyOnce } from './exactly-once';
import { conservation } from './conservation';
import { noDesync } from './no-desync';
import { monotonic } from './monotonic';
import { recovery } from './recovery';

export const CHECKERS: Readonly<Record<CheckName, Checker>> = {
  'acked-durable': ackedDurable,
  'exactly-once': exactlyOnce,
  conservation,
  'no-desync': noDesync,
  monotonic,
  recovery,
};

export { ackedDurable, exactlyOnce, conservation, noDesync, monotonic, recovery };
