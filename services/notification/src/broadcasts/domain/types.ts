import { type UserRole } from '@herald/contracts';
import { type SendInput } from '../../notifications/domain/types';

/* What the broadcast functions take and give; ../schemas.ts is the same on the wire. */

export interface BroadcastInput extends SendInput {
  audience: { all: true } | { role: UserRole };
}

export interface BroadcastProgress {
  id: string;
  state: 'running' | 'completed';
  recipientCount: number;
  processedCount: number;
  createdAt: string;
  completedAt?: string;
}
