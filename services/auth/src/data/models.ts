import { type Connection } from 'mongoose';
import { loginFailureModel } from './login-failure-model';
import { refreshTokenModel } from './refresh-token-model';
import { userModel } from './user-model';

export function authModels(connection: Connection) {
  return {
    users: userModel(connection),
    refreshTokens: refreshTokenModel(connection),
    loginFailures: loginFailureModel(connection),
  };
}
export type AuthModels = ReturnType<typeof authModels>;

/** Builds every index before the service takes traffic: the unique email index is a correctness rule. */
export async function ensureIndexes(models: AuthModels): Promise<void> {
  await Promise.all(Object.values(models).map((model) => model.init()));
}
