import { type Connection } from 'mongoose';
import { type AmqpClient } from '@herald/amqp';
import { settleWithin, type Logger } from '@herald/runtime';
import { cachedApiKeyDirectory, type CachedApiKeyDirectory } from '@herald/runtime/http';
import { type InitialisableModel } from '@herald/runtime/mongo';
import { type ServiceSettings } from '../config';
import {
  workflowModel,
  workflowVersionModel,
  type WorkflowModel,
  type WorkflowVersionModel,
} from '../definitions/data/definition-model';
import {
  digestBucketModel,
  runModel,
  throttleWindowModel,
  type DigestBucketModel,
  type RunModel,
  type ThrottleWindowModel,
} from '../runs/data/run-model';
import { knownTemplateModel, type KnownTemplateModel } from '../templates/data/template-model';
import {
  apiKeyModel,
  ApiKeyReadModel,
  topicReadModels,
  type ApiKeyModel,
  type TopicMemberModel,
  type TopicModel,
} from '@herald/read-models';

export interface Models {
  workflows: WorkflowModel;
  versions: WorkflowVersionModel;
  runs: RunModel;
  digests: DigestBucketModel;
  throttles: ThrottleWindowModel;
  /** the notification service's templates, from `template.changed` */
  templates: KnownTemplateModel;
  /** auth's API keys, from `apikey.upserted` */
  apiKeys: ApiKeyModel;
  /** auth's topics and their members, from `topic.*` (triggers to a topic) */
  topics: TopicModel;
  topicMembers: TopicMemberModel;
}

/** Work started by a request that finishes after the response (advancing new runs). */
export interface Background {
  run(name: string, task: () => Promise<unknown>): void;
  drain(timeoutMs: number): Promise<void>;
}

/** What the features share, built once by the app and passed in (no module globals). */
export interface ServiceContext {
  models: Models;
  amqp: AmqpClient;
  log: Logger;
  settings: ServiceSettings;
  apiKeys: CachedApiKeyDirectory;
  background: Background;
  /** the clock every due time, window and lease is judged on; tests move it */
  now: () => Date;
}

export function createModels(connection: Connection): Models {
  return {
    workflows: workflowModel(connection),
    versions: workflowVersionModel(connection),
    runs: runModel(connection),
    digests: digestBucketModel(connection),
    throttles: throttleWindowModel(connection),
    templates: knownTemplateModel(connection),
    apiKeys: apiKeyModel(connection),
    // auth's topics and members, for triggers to a topic (../topics/consumers.ts keeps them)
    ...topicReadModels(connection),
  };
}

function backgroundTasks(log: Logger): Background {
  const running = new Set<Promise<void>>();
  return {
    run(name, task) {
      const work = task().then(
        () => undefined,
        (error: unknown) =>
          log.error({ err: error, task: name }, 'background task failed; the poller retries it'),
      );
      running.add(work);
      void work.finally(() => running.delete(work));
    },
    async drain(timeoutMs) {
      await settleWithin(Promise.allSettled([...running]), timeoutMs, undefined);
    },
  };
}

export function createServiceContext(deps: {
  mongo: Connection;
  amqp: AmqpClient;
  log: Logger;
  settings: ServiceSettings;
  now: () => Date;
}): { ctx: ServiceContext; allModels: InitialisableModel[] } {
  const models = createModels(deps.mongo);
  const ctx: ServiceContext = {
    models,
    amqp: deps.amqp,
    log: deps.log,
    settings: deps.settings,
    apiKeys: cachedApiKeyDirectory(new ApiKeyReadModel(models.apiKeys), {
      ttlMs: deps.settings.apiKeyCacheMs,
      now: deps.now,
    }),
    background: backgroundTasks(deps.log),
    now: deps.now,
  };
  return { ctx, allModels: Object.values(models) };
}
