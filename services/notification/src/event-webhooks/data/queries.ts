import { isDuplicateKeyError, writeErrorsOf } from '@herald/runtime/mongo';
import { type DeliveryModel, type DeliveryRecord, type EndpointModel, type EndpointRecord } from './models';

/** What the accept path needs of an endpoint to decide whether an event is for it. */
export type EndpointRouting = Pick<
  EndpointRecord,
  '_id' | 'owner' | 'eventTypes' | 'categories' | 'tenants' | 'disabled'
>;

export function readRouting(endpoints: EndpointModel): Promise<EndpointRouting[]> {
  return endpoints
    .find({}, { owner: 1, eventTypes: 1, categories: 1, tenants: 1, disabled: 1 })
    .lean<EndpointRouting[]>()
    .exec();
}

/**
 * Inserts deliveries; one already stored under its webhook id (an event
 * recorded again after a crash or a redelivered report) is left as it is.
 */
export async function insertDeliveries(deliveries: DeliveryModel, records: DeliveryRecord[]): Promise<void> {
  if (records.length === 0) return;
  const failures = await writeErrorsOf(
    deliveries.collection.insertMany(records as never[], { ordered: false }),
  );
  for (const failure of failures.values()) if (!isDuplicateKeyError(failure)) throw failure;
}
