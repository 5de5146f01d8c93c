import { Type } from '@sinclair/typebox';
import { CommonEnv, loadConfigOrExit } from '@herald/runtime';

export const AuthEnv = {
  ...CommonEnv,
  PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 3001 }),
};

export const loadConfig = () => loadConfigOrExit('auth', AuthEnv);
export type Config = ReturnType<typeof loadConfig>;
