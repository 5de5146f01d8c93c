import {
  MAX_CREATED_BATCH,
  MessageSchemas,
  MessageTypes,
  validateKnownMessage,
  validateMessage,
  type MessageType,
  type ValidationResult,
} from '@herald/contracts';
import { validMessages } from './fixtures/valid-messages';

type Mutable = Record<string, unknown> & { payload: Record<string, unknown> };

const messageTypes = Object.keys(MessageSchemas) as MessageType[];
const validOf = (type: MessageType) => validMessages[type]() as unknown as Mutable;

function rejectedPaths(result: ValidationResult<unknown>): string[] {
  if (result.ok) throw new Error('expected the message to be rejected');
  return [...new Set(result.errors.map((error) => error.path))];
}

/** A payload field each message cannot do without. */
const requiredPayloadField: Record<MessageType, string> = {
  'delivery.job': 'notificationId',
  'delivery.status': 'status',
  'notification.created': 'notification',
  'notifications.created': 'items',
  'notification.updated': 'change',
  'user.registered': 'emailVerified',
  'user.updated': 'role',
  'user.verification_requested': 'verificationUrl',
  'user.registration_attempted': 'email',
  'user.password_reset_requested': 'resetUrl',
  'user.phone_verification_requested': 'code',
  'apikey.upserted': 'secretHash',
  'subscriber.upserted': 'revision',
  'subscriber.deleted': 'subscriberId',
  'push.subscription_gone': 'endpoint',
  'notification.status': 'senderId',
  'workflow.send': 'notificationId',
  'template.changed': 'version',
  'workflow.run.changed': 'status',
  'workflow.step.refused': 'code',
  'topic.upserted': 'name',
  'topic.deleted': 'revision',
  'topic.members_changed': 'added',
};

/** A date-time field in each payload. */
const payloadDateField: Record<MessageType, (payload: Record<string, unknown>, value: string) => string> = {
  'delivery.job': (payload, value) => ((payload.createdAt = value), '/payload/createdAt'),
  'delivery.status': (payload, value) => ((payload.at = value), '/payload/at'),
  'notification.created': (payload, value) => {
    (payload.notification as Record<string, unknown>).createdAt = value;
    return '/payload/notification/createdAt';
  },
  'notifications.created': (payload, value) => {
    const [first] = payload.items as { notification: Record<string, unknown> }[];
    first!.notification.createdAt = value;
    return '/payload/items/0/notification/createdAt';
  },
  'notification.updated': (payload, value) => {
    (payload.change as Record<string, unknown>).at = value;
    return '/payload/change/at';
  },
  'user.registered': () => '/occurredAt',
  'user.updated': () => '/occurredAt',
  'user.verification_requested': (payload, value) => ((payload.expiresAt = value), '/payload/expiresAt'),
  'user.registration_attempted': () => '/occurredAt',
  'user.password_reset_requested': (payload, value) => ((payload.expiresAt = value), '/payload/expiresAt'),
  'user.phone_verification_requested': (payload, value) => (
    (payload.expiresAt = value),
    '/payload/expiresAt'
  ),
  'apikey.upserted': (payload, value) => ((payload.revokedAt = value), '/payload/revokedAt'),
  'subscriber.upserted': (payload, value) => ((payload.updatedAt = value), '/payload/updatedAt'),
  'push.subscription_gone': (payload, value) => ((payload.at = value), '/payload/at'),
  'subscriber.deleted': (payload, value) => ((payload.deletedAt = value), '/payload/deletedAt'),
  'notification.status': (payload, value) => ((payload.at = value), '/payload/at'),
  'workflow.send': () => '/occurredAt',
  'template.changed': (payload, value) => ((payload.at = value), '/payload/at'),
  'workflow.run.changed': (payload, value) => ((payload.at = value), '/payload/at'),
  'workflow.step.refused': (payload, value) => ((payload.at = value), '/payload/at'),
  'topic.upserted': (payload, value) => ((payload.updatedAt = value), '/payload/updatedAt'),
  'topic.deleted': (payload, value) => ((payload.deletedAt = value), '/payload/deletedAt'),
  'topic.members_changed': () => '/occurredAt',
};

describe.each(messageTypes)('the %s schema', (type) => {
  const schema = MessageSchemas[type];

  it('accepts a valid example and returns it unchanged', () => {
    expect(validateMessage(schema, validOf(type))).toEqual({ ok: true, value: validOf(type) });
  });

  it('names the type as the envelope type, at version 1', () => {
    expect(validOf(type).type).toBe(type);
    expect(schema.properties.type.const).toBe(type);
    expect(schema.properties.version.const).toBe(1);
  });

  it(`rejects a payload without ${requiredPayloadField[type]}`, () => {
    const message = validOf(type);
    delete message.payload[requiredPayloadField[type]];
    expect(rejectedPaths(validateMessage(schema, message))).toEqual([
      `/payload/${requiredPayloadField[type]}`,
    ]);
  });

  it.each(['messageId', 'correlationId', 'type', 'version', 'occurredAt', 'payload'])(
    'rejects an envelope without %s',
    (field) => {
      const message = validOf(type);
      delete message[field];
      expect(rejectedPaths(validateMessage(schema, message))).toEqual([`/${field}`]);
    },
  );

  it('rejects an extra envelope field', () => {
    const message = { ...validOf(type), routingKey: 'email' };
    expect(rejectedPaths(validateMessage(schema, message))).toEqual(['/routingKey']);
  });

  it('rejects another type', () => {
    const message = { ...validOf(type), type: `${type}.v1` };
    expect(rejectedPaths(validateMessage(schema, message))).toEqual(['/type']);
  });

  it('rejects another version', () => {
    const message = { ...validOf(type), version: 2 };
    expect(rejectedPaths(validateMessage(schema, message))).toEqual(['/version']);
  });

  it('rejects a message id that is not a UUID', () => {
    const message = { ...validOf(type), messageId: '3b241101-e2bb-4255-8caf-4136c566a96' };
    expect(rejectedPaths(validateMessage(schema, message))).toEqual(['/messageId']);
  });

  it.each([
    ['an impossible day', '2025-02-29T10:00:00Z'],
    ['no offset', '2025-03-14T09:26:53'],
    ['a space for T', '2025-03-14 09:26:53Z'],
    ['hour 24', '2025-03-14T24:00:00Z'],
    ['a bare date', '2025-03-14'],
  ])('rejects an occurredAt with %s', (_, value) => {
    const message = { ...validOf(type), occurredAt: value };
    expect(rejectedPaths(validateMessage(schema, message))).toEqual(['/occurredAt']);
  });

  it('rejects a bad date in the payload', () => {
    const message = validOf(type);
    const path = payloadDateField[type](message.payload, '2025-13-01T00:00:00Z');
    if (path === '/occurredAt') message.occurredAt = '2025-13-01T00:00:00Z';
    expect(rejectedPaths(validateMessage(schema, message))).toEqual([path]);
  });

  it('rejects a message of any other type', () => {
    for (const other of messageTypes.filter((t) => t !== type)) {
      expect(validateMessage(schema, validOf(other)).ok).toBe(false);
    }
  });
});

type Case = [description: string, type: MessageType, mutate: (m: Mutable) => void, path: string];
const at = (m: Mutable, key: string) => m.payload[key] as Record<string, unknown>;

describe.each<Case>([
  [
    'a job phone number that is not E.164',
    'delivery.job',
    (m) => (at(m, 'recipient').phone = '004415555'),
    '/payload/recipient/phone',
  ],
  [
    'a job phone number with a leading zero',
    'delivery.job',
    (m) => (at(m, 'recipient').phone = '+0441555'),
    '/payload/recipient/phone',
  ],
  [
    'an SMS job without a phone number',
    'delivery.job',
    (m) => delete at(m, 'recipient').phone,
    '/payload/recipient/phone',
  ],
  [
    'an email job without an email address',
    'delivery.job',
    (m) => (m.payload.channel = 'email'),
    '/payload/recipient/email',
  ],
  ['a job for the in-app channel', 'delivery.job', (m) => (m.payload.channel = 'in_app'), '/payload/channel'],
  ['a job id that is not a UUID', 'delivery.job', (m) => (m.payload.jobId = 'job-1'), '/payload/jobId'],
  ['a job without text', 'delivery.job', (m) => delete at(m, 'content').text, '/payload/content/text'],
  ['an unknown priority', 'delivery.job', (m) => (m.payload.priority = 'urgent'), '/payload/priority'],
  [
    'metadata that is not a string',
    'delivery.job',
    (m) => (at(m, 'metadata').retries = 3),
    '/payload/metadata/retries',
  ],
  ['attempt 0', 'delivery.status', (m) => (m.payload.attempt = 0), '/payload/attempt'],
  ['a fractional attempt', 'delivery.status', (m) => (m.payload.attempt = 1.5), '/payload/attempt'],
  [
    'an engagement kind as a status',
    'delivery.status',
    (m) => (m.payload.status = 'opened'),
    '/payload/status',
  ],
  [
    'a status for the in-app channel',
    'delivery.status',
    (m) => (m.payload.channel = 'in_app'),
    '/payload/channel',
  ],
  [
    'a bad next attempt time',
    'delivery.status',
    (m) => (m.payload.nextAttemptAt = 'soon'),
    '/payload/nextAttemptAt',
  ],
  [
    'an error without permanence',
    'delivery.status',
    (m) => delete at(m, 'error').permanent,
    '/payload/error/permanent',
  ],
  [
    'a notification created read',
    'notification.created',
    (m) => (at(m, 'notification').read = true),
    '/payload/notification/read',
  ],
  [
    'a notification without channels',
    'notification.created',
    (m) => (at(m, 'notification').channels = []),
    '/payload/notification/channels',
  ],
  [
    'a notification listing a channel twice',
    'notification.created',
    (m) => (at(m, 'notification').channels = ['email', 'email']),
    '/payload/notification/channels',
  ],
  [
    'a status for an unknown channel',
    'notification.created',
    (m) => ((at(m, 'notification').statuses as Record<string, unknown>).fax = 'queued'),
    '/payload/notification/statuses/fax',
  ],
  ['a batch of no notifications', 'notifications.created', (m) => (m.payload.items = []), '/payload/items'],
  [
    'a batch item without its correlation id',
    'notifications.created',
    (m) => delete (m.payload.items as Record<string, unknown>[])[1]!.correlationId,
    '/payload/items/1/correlationId',
  ],
  [
    'a batch item created read',
    'notifications.created',
    (m) => ((m.payload.items as { notification: Record<string, unknown> }[])[0]!.notification.read = true),
    '/payload/items/0/notification/read',
  ],
  [
    'a batch over the limit',
    'notifications.created',
    (m) => {
      const [first] = m.payload.items as unknown[];
      m.payload.items = Array.from({ length: MAX_CREATED_BATCH + 1 }, () => first);
    },
    '/payload/items',
  ],
  [
    'a negative unread count',
    'notification.updated',
    (m) => (m.payload.unreadCount = -1),
    '/payload/unreadCount',
  ],
  [
    'a read change without read',
    'notification.updated',
    (m) => (m.payload.change = { kind: 'read', at: '2025-03-14T09:27:10Z' }),
    '/payload/change/read',
  ],
  [
    'a status change with an unknown status',
    'notification.updated',
    (m) => (at(m, 'change').status = 'lost'),
    '/payload/change/status',
  ],
  [
    'a user phone number with spaces',
    'user.registered',
    (m) => (m.payload.phone = '+44 7700 900123'),
    '/payload/phone',
  ],
  [
    'a user phone number without +',
    'user.registered',
    (m) => (m.payload.phone = '447700900123'),
    '/payload/phone',
  ],
  ['a user email without a domain', 'user.registered', (m) => (m.payload.email = 'ada@'), '/payload/email'],
  ['an unknown role', 'user.updated', (m) => (m.payload.role = 'owner'), '/payload/role'],
  [
    'a locale that is not a language tag',
    'user.updated',
    (m) => (m.payload.locale = 'english!'),
    '/payload/locale',
  ],
  ['an empty name', 'user.updated', (m) => (m.payload.name = ''), '/payload/name'],
  [
    'a javascript: verification link',
    'user.verification_requested',
    (m) => (m.payload.verificationUrl = 'javascript:alert(1)'),
    '/payload/verificationUrl',
  ],
  [
    'a relative verification link',
    'user.verification_requested',
    (m) => (m.payload.verificationUrl = '/verify?token=abc'),
    '/payload/verificationUrl',
  ],
  [
    'a javascript: password-reset link',
    'user.password_reset_requested',
    (m) => (m.payload.resetUrl = 'javascript:alert(1)'),
    '/payload/resetUrl',
  ],
  [
    'a phone verification code that is not six digits',
    'user.phone_verification_requested',
    (m) => (m.payload.code = '12345a'),
    '/payload/code',
  ],
  [
    'a phone to verify that is not E.164',
    'user.phone_verification_requested',
    (m) => (m.payload.phone = '07700 900123'),
    '/payload/phone',
  ],
  [
    'a phoneVerified that is not a boolean',
    'user.updated',
    (m) => (m.payload.phoneVerified = 'yes'),
    '/payload/phoneVerified',
  ],
  [
    'a verification link with a space',
    'user.verification_requested',
    (m) => (m.payload.verificationUrl = 'https://herald.example.com/verify?token=a b'),
    '/payload/verificationUrl',
  ],
  [
    'an unknown key scope',
    'apikey.upserted',
    (m) => (m.payload.scopes = ['notifications:send', 'everything']),
    '/payload/scopes/1',
  ],
  ['a key id that is not 16 hex', 'apikey.upserted', (m) => (m.payload.keyId = 'KEY-1'), '/payload/keyId'],
  ['a key with no scope', 'apikey.upserted', (m) => (m.payload.scopes = []), '/payload/scopes'],
  [
    'a plain secret as hash',
    'apikey.upserted',
    (m) => (m.payload.secretHash = 'hunter2'),
    '/payload/secretHash',
  ],
  [
    'an external id with a space',
    'subscriber.upserted',
    (m) => (m.payload.externalId = 'ada lovelace'),
    '/payload/externalId',
  ],
  [
    'a subscriber id without its prefix',
    'subscriber.deleted',
    (m) => (m.payload.subscriberId = 'customer-42'),
    '/payload/subscriberId',
  ],
])('rejects %s', (_, type, mutate, path) => {
  it(`at ${path}`, () => {
    const message = validOf(type);
    mutate(message);
    expect(rejectedPaths(validateMessage(MessageSchemas[type], message))).toEqual([path]);
  });
});

describe('validation issues', () => {
  it('name the missing address of an email job, not only "Expected union value"', () => {
    const message = validOf(MessageTypes.deliveryJob);
    message.payload.channel = 'email';
    expect(validateMessage(MessageSchemas['delivery.job'], message)).toEqual({
      ok: false,
      errors: [{ path: '/payload/recipient/email', message: 'Expected required property' }],
    });
  });

  it('list the values a literal union accepts', () => {
    const message = validOf(MessageTypes.deliveryStatus);
    message.payload.channel = 'fax';
    expect(validateMessage(MessageSchemas['delivery.status'], message)).toEqual({
      ok: false,
      errors: [{ path: '/payload/channel', message: "Expected one of 'email', 'sms', 'push'" }],
    });
  });

  it('name the discriminator when a value names no branch', () => {
    const message = validOf(MessageTypes.notificationUpdated);
    message.payload.change = { kind: 'pinned', at: '2025-03-14T09:27:10Z' };
    expect(validateMessage(MessageSchemas['notification.updated'], message)).toEqual({
      ok: false,
      errors: [
        {
          path: '/payload/change/kind',
          message: "Expected one of 'status', 'read', 'archived', 'deleted', 'engagement'",
        },
      ],
    });
  });

  it('stop at 20 however broken the message is', () => {
    const result = validateMessage(MessageSchemas['delivery.job'], {
      ...validOf(MessageTypes.deliveryJob),
      ...Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`extra${i}`, i])),
    });
    expect(result.ok).toBe(false);
    expect(result.ok ? 0 : result.errors.length).toBe(20);
  });
});

describe('validateKnownMessage', () => {
  it.each(messageTypes)('picks the %s schema from the envelope type', (type) => {
    expect(validateKnownMessage(validOf(type))).toEqual({ ok: true, value: validOf(type) });
  });

  it('rejects a message whose payload does not match its own type', () => {
    const message = {
      ...validOf(MessageTypes.userUpdated),
      payload: validOf(MessageTypes.deliveryStatus).payload,
    };
    expect(validateKnownMessage(message).ok).toBe(false);
  });

  it.each([
    ['an unknown type', { ...validMessages['user.updated'](), type: 'user.deleted' }],
    ['an inherited property name as type', { ...validMessages['user.updated'](), type: 'toString' }],
    ['no type', { payload: {} }],
    ['null', null],
    ['a string', 'delivery.job'],
  ])('rejects %s at /type', (_, value) => {
    expect(validateKnownMessage(value)).toEqual({
      ok: false,
      errors: [{ path: '/type', message: 'Unknown message type' }],
    });
  });
});
