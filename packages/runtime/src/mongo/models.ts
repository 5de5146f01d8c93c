import { isNamespaceExistsError } from './driver-errors';

/** The model surface `prepareModels` needs (a mongoose Model has it). */
export interface InitialisableModel {
  init(): Promise<unknown>;
  createCollection(): Promise<unknown>;
  createIndexes(): Promise<unknown>;
  schema: { options: { autoIndex?: boolean | null } };
}

/**
 * Step one of every service's start-up: each model's collection exists and
 * its indexes are built, awaited, before any migration, request or message
 * touches them. `Model.init()` is what mongoose otherwise starts in the
 * background when a model is compiled; a migration's `updateMany` racing it
 * on a fresh database made mongo-java-server refuse the second creator. The
 * loser of such a race (another instance starting at the same moment) goes
 * on: the collection exists, so it only builds the indexes (createIndexes is
 * idempotent). Models with `autoIndex: false` build theirs after their
 * migrations, as their service says.
 */
export async function prepareModels(models: Iterable<InitialisableModel>): Promise<void> {
  await Promise.all(
    [...models].map(async (model) => {
      try {
        await model.init();
      } catch (error) {
        if (!isNamespaceExistsError(error)) throw error;
        await model.createCollection().catch((again: unknown) => {
          if (!isNamespaceExistsError(again)) throw again;
        });
        if (model.schema.options.autoIndex !== false) await model.createIndexes();
      }
    }),
  );
}
