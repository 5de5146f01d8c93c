import { Type } from '@sinclair/typebox';
import {
  Envelope,
  MessageSchemas,
  MessageTypes,
  createDeliveryJobMessage,
  createEnvelope,
  createMessage,
  isUuid,
  validateMessage,
  type PayloadOf,
} from '@herald/contracts';
import { validMessages } from './fixtures/valid-messages';

const payloadOf = <T extends keyof typeof validMessages>(type: T) =>
  validMessages[type]().payload as PayloadOf<T>;

describe('Envelope', () => {
  const Ping = Envelope('test.ping', 3, Type.Object({ n: Type.Integer() }));

  it('fixes type and version as literals and refuses extra fields', () => {
    expect(Ping.properties.type.const).toBe('test.ping');
    expect(Ping.properties.version.const).toBe(3);
    expect(Ping.additionalProperties).toBe(false);
    expect(Ping.required).toEqual(['messageId', 'correlationId', 'type', 'version', 'occurredAt', 'payload']);
  });
});

describe('createEnvelope', () => {
  const Ping = Envelope('test.ping', 3, Type.Object({ n: Type.Integer() }));

  it('fills a fresh UUID message id and the current time', () => {
    const before = Date.now();
    const message = createEnvelope('test.ping', 3, { n: 1 }, { correlationId: 'req-1' });
    const after = Date.now();

    expect(isUuid(message.messageId)).toBe(true);
    expect(Date.parse(message.occurredAt)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(message.occurredAt)).toBeLessThanOrEqual(after);
    expect(message).toEqual({
      messageId: message.messageId,
      correlationId: 'req-1',
      type: 'test.ping',
      version: 3,
      occurredAt: message.occurredAt,
      payload: { n: 1 },
    });
  });

  it('produces a message its schema accepts', () => {
    const message = createEnvelope('test.ping', 3, { n: 1 }, { correlationId: 'req-1' });
    expect(validateMessage(Ping, message)).toEqual({ ok: true, value: message });
  });

  it('gives every message its own id', () => {
    const first = createEnvelope('test.ping', 3, { n: 1 }, { correlationId: 'req-1' });
    const second = createEnvelope('test.ping', 3, { n: 1 }, { correlationId: 'req-1' });
    expect(first.messageId).not.toBe(second.messageId);
  });

  it('keeps a given message id and time', () => {
    const message = createEnvelope(
      'test.ping',
      3,
      { n: 1 },
      {
        correlationId: 'req-1',
        messageId: '0d9c5b1e-8a1f-4c1e-9a57-2f7e7cb0a001',
        occurredAt: new Date('2025-03-14T09:26:53.589Z'),
      },
    );
    expect(message.messageId).toBe('0d9c5b1e-8a1f-4c1e-9a57-2f7e7cb0a001');
    expect(message.occurredAt).toBe('2025-03-14T09:26:53.589Z');
  });
});

describe('createMessage', () => {
  it.each(Object.values(MessageTypes))('builds a %s message its schema accepts', (type) => {
    const message = createMessage(type, payloadOf(type), { correlationId: 'req-9' });
    expect(message.type).toBe(type);
    expect(message.version).toBe(1);
    expect(message.correlationId).toBe('req-9');
    expect(validateMessage(MessageSchemas[type], message)).toEqual({ ok: true, value: message });
  });
});

describe('createDeliveryJobMessage', () => {
  it('uses the job id as the message id, so a republished job is the same message', () => {
    const payload = { ...payloadOf('delivery.job'), jobId: '9f1c2d3e-4b5a-4c6d-8e7f-a0b1c2d3e4f5' };
    const first = createDeliveryJobMessage(payload, { correlationId: 'req-1' });
    const again = createDeliveryJobMessage(payload, { correlationId: 'relay' });

    expect(first.messageId).toBe('9f1c2d3e-4b5a-4c6d-8e7f-a0b1c2d3e4f5');
    expect(again.messageId).toBe(first.messageId);
    expect(validateMessage(MessageSchemas['delivery.job'], first).ok).toBe(true);
  });
});
