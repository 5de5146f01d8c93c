import { Type } from '@sinclair/typebox';
import { CommonEnv, loadConfigOrExit } from '@herald/runtime';

export const DeliveryWorkerEnv = {
  ...CommonEnv,
  PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 3003 }),
};

export const loadConfig = () => loadConfigOrExit('delivery-worker', DeliveryWorkerEnv);
export type Config = ReturnType<typeof loadConfig>;
