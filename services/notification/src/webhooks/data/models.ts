import { type Connection } from 'mongoose';
import { webhookTokenModel, type WebhookTokenModel } from './webhook-models';

export interface WebhookModels {
  tokens: WebhookTokenModel;
}

export async function webhookModels(connection: Connection): Promise<WebhookModels> {
  const models = { tokens: webhookTokenModel(connection) };
  await models.tokens.init();
  return models;
}
