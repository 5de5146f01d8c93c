import { DurableQueues, EventRoutingKeys } from '@herald/contracts';

/** A topic pattern with `*` (one word) as RabbitMQ matches it; enough for the bindings here. */
function matches(pattern: string, key: string): boolean {
  const words = pattern.split('.');
  const parts = key.split('.');
  return words.length === parts.length && words.every((word, i) => word === '*' || word === parts[i]);
}

describe('topology', () => {
  const bound = (key: string) =>
    DurableQueues.notificationEvents.bindings.some(
      (binding) => binding.exchange === 'events' && matches(binding.routingKey, key),
    );

  it("binds every event auth publishes for read models, and the workflows service's sends and run changes, to the notification service's queue", () => {
    for (const key of [
      EventRoutingKeys.userRegistered,
      EventRoutingKeys.userUpdated,
      EventRoutingKeys.apiKeyUpserted,
      EventRoutingKeys.subscriberUpserted,
      EventRoutingKeys.subscriberDeleted,
      EventRoutingKeys.topicUpserted,
      EventRoutingKeys.topicDeleted,
      EventRoutingKeys.topicMembersChanged,
      EventRoutingKeys.deliveryStatus,
      EventRoutingKeys.workflowSend,
      EventRoutingKeys.workflowRunChanged,
    ]) {
      expect([key, bound(key)]).toEqual([key, true]);
    }
  });

  it('keeps the notification service from consuming its own notification events', () => {
    expect(bound(EventRoutingKeys.notificationCreated)).toBe(false);
    expect(bound(EventRoutingKeys.notificationUpdated)).toBe(false);
  });

  it("binds the notification service's refusals of a run's step to the workflows service's queue only, with auth's topics", () => {
    const boundTo = (queue: { bindings: readonly { exchange: string; routingKey: string }[] }, key: string) =>
      queue.bindings.some((binding) => binding.exchange === 'events' && matches(binding.routingKey, key));
    expect(boundTo(DurableQueues.workflowEvents, EventRoutingKeys.workflowStepRefused)).toBe(true);
    // and auth's topics, for triggers to a topic
    for (const key of [
      EventRoutingKeys.topicUpserted,
      EventRoutingKeys.topicDeleted,
      EventRoutingKeys.topicMembersChanged,
    ]) {
      expect([key, boundTo(DurableQueues.workflowEvents, key)]).toEqual([key, true]);
    }
    expect(bound(EventRoutingKeys.workflowStepRefused)).toBe(false);
  });
});
