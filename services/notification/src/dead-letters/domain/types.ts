import { type Channel } from '@herald/contracts';
import { type DeadLetterState } from '../data/model';

/* What the dead-letter functions take and give; ../schemas.ts is the same on the wire. */

export interface DeadLetterListQuery {
  limit?: number;
  cursor?: string;
  reason?: string;
  channel?: Channel;
  notificationId?: string;
  state?: DeadLetterState;
}

export interface DeadLetterReplayView {
  by: string;
  startedAt: string;
  replayedAt: string | null;
  exchange: string | null;
  routingKey: string | null;
}

export interface DeadLetterSummary {
  id: string;
  state: DeadLetterState;
  reason: string;
  errorCode: string | null;
  lastError: string | null;
  attempts: number;
  messageId: string | null;
  correlationId: string | null;
  messageType: string | null;
  notificationId: string | null;
  channel: string | null;
  originalQueue: string | null;
  firstFailedAt: string | null;
  deadLetteredAt: string;
  receivedAt: string;
  replay: DeadLetterReplayView | null;
}

export interface DeadLetterDetail extends DeadLetterSummary {
  originalExchange: string | null;
  originalRoutingKey: string | null;
  contentType: string | null;
  /** the body is a Herald message that passes its schema */
  validEnvelope: boolean;
  headers: Record<string, unknown>;
  /** the exact bytes: as text when they are UTF-8, else base64 */
  body: { encoding: 'utf8' | 'base64'; data: string };
  payload?: unknown;
}
