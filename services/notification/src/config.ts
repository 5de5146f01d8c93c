import { Type } from '@sinclair/typebox';
import { CommonEnv, loadConfigOrExit } from '@herald/runtime';

export const NotificationEnv = {
  ...CommonEnv,
  PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 3002 }),
};

export const loadConfig = () => loadConfigOrExit('notification', NotificationEnv);
export type Config = ReturnType<typeof loadConfig>;
