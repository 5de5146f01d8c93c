import { type Connection } from 'mongoose';
import {
  suppressionModel,
  webhookTokenModel,
  type SuppressionModel,
  type WebhookTokenModel,
} from '../data/webhook-models';

export interface WebhookModels {
  tokens: WebhookTokenModel;
  suppressions: SuppressionModel;
}

export async function webhookModels(connection: Connection): Promise<WebhookModels> {
  const models = { tokens: webhookTokenModel(connection), suppressions: suppressionModel(connection) };
  await Promise.all([models.tokens.init(), models.suppressions.init()]);
  return models;
}
