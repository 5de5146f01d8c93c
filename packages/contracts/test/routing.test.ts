import {
  Channels,
  DeliveryChannels,
  EventRoutingKeyByMessageType,
  MessageTypes,
  Queues,
  WorkQueueByRoutingKey,
  isDeliveryChannel,
  isMessageType,
  workRoutingKeyFor,
} from '@herald/contracts';

describe('message routing', () => {
  it('publishes each event under a routing key equal to its type', () => {
    expect(EventRoutingKeyByMessageType).toEqual({
      'delivery.status': 'delivery.status',
      'notification.created': 'notification.created',
      'notifications.created': 'notifications.created',
      'notification.updated': 'notification.updated',
      'user.registered': 'user.registered',
      'user.updated': 'user.updated',
      'user.verification_requested': 'user.verification_requested',
      'user.registration_attempted': 'user.registration_attempted',
      'user.password_reset_requested': 'user.password_reset_requested',
      'user.phone_verification_requested': 'user.phone_verification_requested',
      'apikey.upserted': 'apikey.upserted',
      'subscriber.upserted': 'subscriber.upserted',
      'subscriber.deleted': 'subscriber.deleted',
      'push.subscription_gone': 'push.subscription_gone',
      'notification.status': 'notification.status',
      'workflow.send': 'workflow.send',
      'template.changed': 'template.changed',
      'workflow.run.changed': 'workflow.run.changed',
      'workflow.step.refused': 'workflow.step.refused',
      'topic.upserted': 'topic.upserted',
      'topic.deleted': 'topic.deleted',
      'topic.members_changed': 'topic.members_changed',
    });
  });

  it('routes delivery jobs by channel to one work queue per channel', () => {
    expect(DeliveryChannels.map((channel) => WorkQueueByRoutingKey[workRoutingKeyFor(channel)])).toEqual([
      Queues.workEmail,
      Queues.workSms,
      Queues.workPush,
    ]);
    expect(Queues.workEmail).toBe('herald.work.email');
    expect(Queues.workSms).toBe('herald.work.sms');
    expect(Queues.workPush).toBe('herald.work.push');
  });

  it('knows every message type and nothing else', () => {
    expect(Object.values(MessageTypes).every(isMessageType)).toBe(true);
    expect(['delivery.job.v1', 'user.deleted', 'constructor', '', 42].some(isMessageType)).toBe(false);
  });
});

describe('channels', () => {
  it('hands email, SMS and push to the worker, never in-app', () => {
    expect(Channels.filter(isDeliveryChannel)).toEqual(['email', 'sms', 'push']);
  });
});
