import { type Logger } from '@herald/runtime';
import { type Config } from '../config';
import { type AuthModels } from '../data/models';
import { type AuthMetrics } from '../metrics';
import { type AccessTokenSettings } from './access-tokens';
import { type EventOutbox } from './outbox';

/** What the domain functions need; built once in `buildApp`. */
export interface AuthContext {
  config: Config;
  models: AuthModels;
  tokens: AccessTokenSettings;
  outbox: EventOutbox;
  /** see `createDummyHash` */
  dummyHash: string;
  logger: Logger;
  metrics: AuthMetrics;
}
