import { ConflictError, NotFoundError, ValidationError } from '@herald/runtime';
import { isDuplicateKeyError } from '@herald/runtime/mongo';
import { type Channel } from '@herald/contracts';
import { type CategoryModel, type CategoryRecord } from '../data/category-model';

/** The category of a notification that names none. */
export const DEFAULT_CATEGORY = 'general';

/**
 * Categories seeded at start, idempotently: `general` for notifications that
 * name none, and the account messages this service sends itself, critical so
 * no preference ever holds back a password reset or a verification code.
 */
export const BUILT_IN_CATEGORIES: readonly CategoryInput[] = [
  { key: DEFAULT_CATEGORY, name: 'General', defaultChannels: ['in_app'], critical: false },
  ...['account.verification', 'account.password_reset', 'account.security', 'account.phone_verification'].map(
    (key) => ({ key, name: key, defaultChannels: ['email'] as Channel[], critical: true }),
  ),
];

export interface CategoryInput {
  key: string;
  name: string;
  description?: string;
  defaultChannels?: Channel[];
  critical?: boolean;
}

export type CategoryChanges = Partial<Omit<CategoryInput, 'key'>>;

/** How long an instance trusts a category it read; its own writes drop the entry at once. */
const CACHE_TTL_MS = 5_000;

/**
 * The category catalogue. Every send looks its category up (known? critical?),
 * so lookups are cached per instance for a few seconds: a category created
 * on another instance is known here within `CACHE_TTL_MS`, and a category
 * made critical there is honoured within the same bound.
 */
export class Categories {
  private readonly cache = new Map<string, { record: CategoryRecord | null; at: number }>();

  constructor(
    private readonly model: CategoryModel,
    private readonly now: () => Date,
  ) {}

  async seed(categories: readonly CategoryInput[]): Promise<void> {
    const at = this.now();
    await this.model.bulkWrite(
      categories.map((category) => ({
        updateOne: {
          filter: { _id: category.key },
          update: { $setOnInsert: { ...recordOf(category), createdAt: at, updatedAt: at } },
          upsert: true,
        },
      })),
    );
  }

  /** The category, or null when none has this key (cached, see the class). */
  async find(key: string): Promise<CategoryRecord | null> {
    const at = this.now().getTime();
    const cached = this.cache.get(key);
    if (cached && at - cached.at < CACHE_TTL_MS) return cached.record;
    const record = await this.model.findById(key).lean<CategoryRecord>();
    this.cache.set(key, { record: record ?? null, at });
    return record ?? null;
  }

  /**
   * The category a send names (or `general`), which must exist: a key no admin
   * created is a 400 naming `/body/category` (a typo would otherwise escape
   * every per-category preference, and no one could unsubscribe from it).
   */
  async forSend(key: string | undefined, field = '/body/category'): Promise<CategoryRecord> {
    const record = await this.find(key ?? DEFAULT_CATEGORY);
    if (record) return record;
    throw new ValidationError(
      `No category has the key '${key}'`,
      [{ field, message: 'must be the key of an existing category (see /api/v1/categories)' }],
      'unknown_category',
    );
  }

  async list(): Promise<CategoryRecord[]> {
    return this.model.find().sort({ _id: 1 }).lean<CategoryRecord[]>();
  }

  async get(key: string): Promise<CategoryRecord> {
    const record = await this.model.findById(key).lean<CategoryRecord>();
    if (!record) throw notFound(key);
    return record;
  }

  async create(input: CategoryInput): Promise<CategoryRecord> {
    const at = this.now();
    const record: CategoryRecord = { ...recordOf(input), createdAt: at, updatedAt: at };
    try {
      await this.model.collection.insertOne(withoutUndefined(record) as object);
    } catch (error) {
      if (isDuplicateKeyError(error))
        throw new ConflictError('category_exists', `A category '${input.key}' exists`);
      throw error;
    }
    this.cache.delete(input.key);
    return record;
  }

  async update(key: string, changes: CategoryChanges): Promise<CategoryRecord> {
    const record = await this.model
      .findOneAndUpdate(
        { _id: key },
        { $set: { ...changes, updatedAt: this.now() } },
        { returnDocument: 'after' },
      )
      .lean<CategoryRecord>();
    this.cache.delete(key);
    if (!record) throw notFound(key);
    return record;
  }

  /**
   * Deletes a category; `general` stays (every notification without a
   * category is in it). Notifications already sent keep the key they name.
   */
  async delete(key: string): Promise<void> {
    if (key === DEFAULT_CATEGORY)
      throw new ConflictError('category_required', `The '${DEFAULT_CATEGORY}' category cannot be deleted`);
    const { deletedCount } = await this.model.deleteOne({ _id: key });
    this.cache.delete(key);
    if (deletedCount === 0) throw notFound(key);
  }
}

function recordOf(input: CategoryInput): Omit<CategoryRecord, 'createdAt' | 'updatedAt'> {
  return {
    _id: input.key,
    name: input.name,
    ...(input.description !== undefined ? { description: input.description } : {}),
    defaultChannels: input.defaultChannels ?? [],
    critical: input.critical ?? false,
  };
}

function withoutUndefined<T extends object>(value: T): T {
  for (const key of Object.keys(value) as (keyof T)[]) if (value[key] === undefined) delete value[key];
  return value;
}

const notFound = (key: string) => new NotFoundError('category_not_found', `No category '${key}'`);
