import { createHash } from 'node:crypto';
import { Types } from 'mongoose';
import { AppError, ValidationError } from '@herald/runtime';
import { type AuthenticatedUser } from '@herald/runtime/http';
import { type Recipient } from '../data/notification-model';
import { fillLinks } from '../../unsubscribe/domain/links';
import { type ServiceContext } from '../../kernel/context';
import {
  acceptedResponse,
  contentOf,
  parseSendAt,
  storeNotification,
  type NotificationDraft,
  withSenderAccount,
} from './create-notification';
import { resolveRecipient } from './recipients';
import { assertMaySendContent } from './sender-rules';
import { assertOneContentSource } from './templated-content';
import {
  type CreateNotificationInput,
  type NotificationAccepted,
  type RecipientInput,
  type SendRequestInput,
} from './types';

/** The largest `data` an application may attach, serialised. */
export const MAX_DATA_BYTES = 8_192;

/** Notifications stored at once within a batch (their inserts are batched below this anyway). */
const STORE_CONCURRENCY = 200;

/** A batch's answer: one per recipient, in the order of `recipients`. */
export interface BatchAccepted {
  notifications: NotificationAccepted[];
}

/**
 * The id of a batch's i-th notification: the first is `base`, the others
 * derived from it, so a retried batch (same Idempotency-Key, same base)
 * lands on the same ids and each insert is deduplicated. They keep the
 * base's timestamp bytes, so they sort with it.
 */
export function batchNotificationId(base: Types.ObjectId, index: number): Types.ObjectId {
  if (index === 0) return base;
  const hex = base.toHexString();
  const tail = createHash('sha256').update(`${hex}:${index}`).digest('hex').slice(0, 16);
  return new Types.ObjectId(hex.slice(0, 8) + tail);
}

/** The recipients a request names: one, or a batch. */
export function recipientsOf(input: Pick<SendRequestInput, 'recipient' | 'recipients'>): RecipientInput[] {
  return input.recipients ?? (input.recipient ? [input.recipient] : []);
}

function dataJsonOf(data: Record<string, unknown> | undefined): string | undefined {
  if (data === undefined) return undefined;
  const json = JSON.stringify(data);
  if (Buffer.byteLength(json) > MAX_DATA_BYTES) {
    throw new ValidationError('The request is invalid', [
      { field: '/body/data', message: `must be at most ${MAX_DATA_BYTES} bytes as JSON` },
    ]);
  }
  return json;
}

/** A batch's refusal names the recipient it is about. */
function forRecipient(error: unknown, index: number): unknown {
  if (!(error instanceof AppError) || error instanceof ValidationError) return error;
  const named = new AppError(error.status, error.code, `recipients/${index}: ${error.detail}`, {
    cause: error,
  });
  return named;
}

/**
 * `POST /notifications`, one recipient or a batch of up to 1,000: the
 * content is checked and rendered once (per recipient locale for a
 * template), every recipient resolved before anything is stored — an
 * unknown or forbidden one refuses the whole request — then one
 * notification per recipient is stored through `storeNotification`. With
 * `baseId` (from the Idempotency-Key) the ids are fixed, so a retry creates
 * none twice.
 */
export async function sendNotifications(
  ctx: ServiceContext,
  sender: AuthenticatedUser,
  input: SendRequestInput,
  options: { correlationId: string; baseId?: Types.ObjectId },
): Promise<NotificationAccepted | BatchAccepted> {
  assertOneContentSource(input);
  assertMaySendContent(sender, input);
  const dataJson = dataJsonOf(input.data);
  const sendAt = parseSendAt(ctx, input.sendAt);
  const category = await ctx.categories.forSend(input.category);
  const targets = recipientsOf(input);
  const batch = input.recipients !== undefined;

  const lookups = withSenderAccount(ctx, sender);
  const recipients = await Promise.all(
    targets.map((target, index) =>
      resolveRecipient(lookups, sender, target, input.channels).catch((error: unknown) => {
        throw batch ? forRecipient(error, index) : error;
      }),
    ),
  );

  // Literal content is the same for all; a template's depends on the recipient's locale only.
  const contents = new Map<string, ReturnType<typeof contentOf>>();
  const contentFor = (recipient: Recipient, target: RecipientInput) => {
    const key = input.template ? (recipient.locale ?? '') : '';
    let content = contents.get(key);
    if (!content) {
      content = contentOf(ctx, { ...input, recipient: target } as CreateNotificationInput, recipient);
      contents.set(key, content);
    }
    return content;
  };

  const baseId = options.baseId ?? new Types.ObjectId();
  const accepted: NotificationAccepted[] = [];
  for (let start = 0; start < recipients.length; start += STORE_CONCURRENCY) {
    const chunk = recipients.slice(start, start + STORE_CONCURRENCY);
    const records = await Promise.all(
      chunk.map(async (recipient, offset) => {
        const index = start + offset;
        const draft: NotificationDraft = {
          id: batchNotificationId(baseId, index),
          recipient,
          senderId: sender.id,
          channels: input.channels,
          ...(await fillLinks(ctx, await contentFor(recipient, targets[index]!), {
            recipientId: recipient.userId,
            category: category._id,
          })),
          category: category._id,
          actor: input.actor,
          tenant: input.tenant,
          dataJson,
          priority: input.priority,
          metadata: input.metadata,
          sendAt,
          transactionId: input.transactionId,
          correlationId: options.correlationId,
        };
        return storeNotification(ctx, draft);
      }),
    );
    accepted.push(...records.map(acceptedResponse));
  }
  return batch ? { notifications: accepted } : accepted[0]!;
}
