import { randomUUID } from 'node:crypto';
import { Type, type TSchema } from '@sinclair/typebox';
import { DateTime, Uuid } from './primitives';

/**
 * The frame of every RabbitMQ message. Strict (`additionalProperties: false`)
 * so a message from another system or a misrouted one fails fast into the
 * dead-letter queue. Payloads stay open to extra fields: a producer can add an
 * optional field without a version bump and consumers deployed earlier keep
 * working.
 */
export function Envelope<const TType extends string, const TVersion extends number, TPayload extends TSchema>(
  type: TType,
  version: TVersion,
  payload: TPayload,
) {
  return Type.Object(
    {
      messageId: Uuid,
      /** The request id that caused this message: one grep follows a notification through every service. */
      correlationId: Type.String({ minLength: 1, maxLength: 256 }),
      type: Type.Literal(type),
      version: Type.Literal(version),
      occurredAt: DateTime,
      payload,
    },
    { additionalProperties: false, title: `${type}.v${version}` },
  );
}

export interface EnvelopeOptions {
  correlationId: string;
  /** Defaults to a fresh UUID. A delivery job passes its job id, so a republished job keeps its identity. */
  messageId?: string;
  /** Defaults to now. */
  occurredAt?: Date;
}

export interface EnvelopeOf<TType extends string, TVersion extends number, TPayload> {
  messageId: string;
  correlationId: string;
  type: TType;
  version: TVersion;
  occurredAt: string;
  payload: TPayload;
}

export function createEnvelope<const TType extends string, const TVersion extends number, TPayload>(
  type: TType,
  version: TVersion,
  payload: TPayload,
  options: EnvelopeOptions,
): EnvelopeOf<TType, TVersion, TPayload> {
  return {
    messageId: options.messageId ?? randomUUID(),
    correlationId: options.correlationId,
    type,
    version,
    occurredAt: (options.occurredAt ?? new Date()).toISOString(),
    payload,
  };
}
