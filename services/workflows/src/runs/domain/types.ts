import { type WorkflowRecipient } from '@herald/contracts';

/** `POST /workflows/{key}/trigger`, in the domain's terms. */
export interface TriggerInput {
  /** the recipients, or an auth topic: one run per live member (as `{ subscriberId }`) */
  recipients: WorkflowRecipient[] | { topic: string };
  data?: Record<string, unknown>;
  transactionId?: string;
}

/** `POST /workflows/events`: an application's own event, for one recipient. */
export interface ApplicationEventInput {
  key: string;
  recipient: { subscriberId: string } | { userId: string };
  transactionId?: string;
  data?: Record<string, unknown>;
}

export interface RunSummary {
  id: string;
  workflowKey: string;
  workflowVersion: number;
  recipient: WorkflowRecipient;
  recipientKey: string;
  status: string;
  transactionId?: string;
  createdAt: string;
  updatedAt: string;
  wakeAt?: string;
  endedAt?: string;
}

export interface RunDetail extends RunSummary {
  data: Record<string, unknown>;
  waiting?: { stepId: string; until: string };
  steps: {
    stepId: string;
    type: string;
    outcome: string;
    at: string;
    notificationId?: string;
    detail?: string;
  }[];
  notifications: {
    stepId: string;
    channel: string;
    notificationId: string;
    /** the notification service refused this send: nothing was created under the id */
    refused?: { code: string; reason: string; at: string };
  }[];
  engagement: { notificationId: string; kind: string; at: string }[];
  digest?: { eventCount: number };
  digestedInto?: string;
  cancelledBy?: { event: string; data?: Record<string, unknown>; at: string };
}

export interface RunListQuery {
  workflow?: string;
  recipient?: string;
  status?: string;
  limit?: number;
  cursor?: string;
}
