import { isDuplicateKeyError } from '@herald/runtime/mongo';
import { type TemplateChangedPayload } from '@herald/contracts';
import { type KnownTemplateModel, type KnownTemplateRecord } from '../data/template-model';

/**
 * The notification service's templates as this service knows them, from
 * `template.changed`: a newer version (or the same version deleted) replaces
 * what is held; an older one arriving late is ignored.
 */
export async function applyTemplateChange(
  templates: KnownTemplateModel,
  change: TemplateChangedPayload,
): Promise<void> {
  const set = {
    version: change.version,
    channels: change.channels,
    deleted: change.deleted,
    at: new Date(change.at),
  };
  try {
    await templates.updateOne(
      {
        _id: change.key,
        $or: [
          { version: { $lt: change.version } },
          { version: change.version, deleted: change.deleted ? false : true },
        ],
      },
      { $set: set },
      { upsert: true },
    );
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
  }
}

/** The live templates among `keys`, by key. */
export async function liveTemplates(
  templates: KnownTemplateModel,
  keys: string[],
): Promise<Map<string, KnownTemplateRecord>> {
  const found = await templates.find({ _id: { $in: keys }, deleted: false }).lean<KnownTemplateRecord[]>();
  return new Map(found.map((one) => [one._id, one]));
}
