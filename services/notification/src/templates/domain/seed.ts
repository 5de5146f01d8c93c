import { mapMongoError } from '@herald/runtime/mongo';
import { type TemplateRecord } from '../data/models';
import { checkTemplate } from './compile';
import { contentHash, contentOf, type Templates } from './service';
import { recordVersion } from './store';
import { type SystemTemplate } from './system';

export const SEEDER = 'system';

/**
 * Makes the shipped system templates exist, on every start, on every
 * instance, without ever making a version for nothing:
 * - absent: created as version 1 (two instances starting together collide
 *   on the unique key; the loser has nothing to do);
 * - the shipped content is what the seeder last applied (`seedHash`), or
 *   what the head holds: nothing to do;
 * - the shipped content changed and the head is still the seeder's: the
 *   next version, as a compare-and-set on the version read (two instances
 *   upgrading together make one version);
 * - the shipped content changed but an admin edited the template since:
 *   their edit stays, and a warning says the shipped change was not applied.
 */
export async function seedSystemTemplates(
  t: Templates,
  definitions: readonly SystemTemplate[],
): Promise<void> {
  for (const definition of definitions) await seedOne(t, definition);
}

async function seedOne(t: Templates, definition: SystemTemplate): Promise<void> {
  const { key } = definition;
  const { content, errors } = checkTemplate(t.engine, t.variables, definition.content, `/system/${key}`);
  // A shipped template that does not compile is a bug in this release: refuse to start.
  if (errors.length) throw new Error(`system template ${key} is invalid: ${JSON.stringify(errors)}`);
  const hash = contentHash(content);
  const head = await t.models.templates.findOne({ key }).lean<TemplateRecord>();

  if (!head) {
    try {
      const [created] = await t.models.templates.insertMany([
        {
          key,
          ...content,
          version: 1,
          contentHash: hash,
          seedHash: hash,
          system: true,
          updatedBy: SEEDER,
          deletedAt: null,
        },
      ]);
      await recordVersion(t, created!.toObject() as TemplateRecord);
      t.log.info({ key }, 'system template created');
    } catch (error) {
      if (mapMongoError(error) === error) throw error;
    }
    return;
  }
  if (head.seedHash === hash || head.contentHash === hash) return recordVersion(t, head);
  if (head.updatedBy !== SEEDER || head.deletedAt !== null) {
    t.log.warn(
      { key, version: head.version, updatedBy: head.updatedBy },
      'the shipped content of a system template changed, but the stored one was edited by an admin: kept theirs',
    );
    return;
  }
  const upgraded = await t.models.templates
    .findOneAndUpdate(
      { key, version: head.version, updatedBy: SEEDER },
      {
        $set: {
          ...contentOf(content),
          version: head.version + 1,
          contentHash: hash,
          seedHash: hash,
          system: true,
        },
      },
      { returnDocument: 'after' },
    )
    .lean<TemplateRecord>();
  if (!upgraded) return; // another instance upgraded it first, or an admin edited it just now
  await recordVersion(t, upgraded);
  t.cache.invalidate(key);
  t.log.info({ key, version: upgraded.version }, 'system template upgraded to the shipped content');
}
