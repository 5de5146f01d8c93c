import { type ServiceContext } from '../../kernel/context';
import { announce } from '../data/run-model';

/** Ends an active run `cancelled`: whatever it was waiting for never happens, no further step runs. */
export async function cancelActive(ctx: ServiceContext, filter: Record<string, unknown>, detail: string) {
  const now = ctx.now();
  return ctx.models.runs.updateMany(
    { ...filter, status: 'active' },
    {
      $set: {
        status: 'cancelled',
        wakeAt: null,
        waiting: null,
        leaseOwner: null,
        leaseUntil: null,
        endedAt: now,
        updatedAt: now,
      },
      $push: {
        history: { stepId: '-', type: 'cancel', outcome: 'cancelled', at: now, detail },
        ...announce('cancelled', now),
      },
    },
  );
}
