import { Type } from '@sinclair/typebox';
import { CommonEnv, loadConfigOrExit } from '@herald/runtime';

export const RealtimeEnv = {
  ...CommonEnv,
  PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 3004 }),
};

export const loadConfig = () => loadConfigOrExit('realtime', RealtimeEnv);
export type Config = ReturnType<typeof loadConfig>;
