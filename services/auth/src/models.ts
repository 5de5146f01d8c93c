import { type Connection } from 'mongoose';
import { userModel } from './accounts/data/user-model';
import { apiKeyModel } from './api-keys/data/api-key-model';
import { subscriberModel } from './subscribers/data/subscriber-model';
import { refreshTokenModel } from './sessions/data/refresh-token-model';
import { sessionModel } from './sessions/data/session-model';
import { failureBackoffModel } from './throttle/data/failure-backoff-model';
import { throttleCounterModel } from './throttle/data/throttle-counter-model';
import { topicImportModel, topicMemberModel, topicModel } from './topics/data/topic-model';

/** Every collection of the service, compiled on its connection; `buildApp` prepares them all before use. */
export function authModels(connection: Connection) {
  return {
    users: userModel(connection),
    refreshTokens: refreshTokenModel(connection),
    sessions: sessionModel(connection),
    throttleCounters: throttleCounterModel(connection),
    failureBackoffs: failureBackoffModel(connection),
    apiKeys: apiKeyModel(connection),
    subscribers: subscriberModel(connection),
    topics: topicModel(connection),
    topicMembers: topicMemberModel(connection),
    topicImports: topicImportModel(connection),
  };
}
export type AuthModels = ReturnType<typeof authModels>;
