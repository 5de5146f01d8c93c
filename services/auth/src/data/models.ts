import { type Connection } from 'mongoose';
import { refreshTokenModel } from './refresh-token-model';
import { throttleCounterModel } from './throttle-counter-model';
import { userModel } from './user-model';

export function authModels(connection: Connection) {
  return {
    users: userModel(connection),
    refreshTokens: refreshTokenModel(connection),
    throttleCounters: throttleCounterModel(connection),
  };
}
export type AuthModels = ReturnType<typeof authModels>;

/** Builds every index before the service takes traffic: the unique email index is a correctness rule. */
export async function ensureIndexes(models: AuthModels): Promise<void> {
  await Promise.all(Object.values(models).map((model) => model.init()));
}
