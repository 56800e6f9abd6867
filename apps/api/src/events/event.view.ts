import type { FeedEvent } from '@snowline/persistence';
import { isoTime } from '../common/iso-time';

/** The public shape of an event (also the webhook payload's `data`-bearing body and each SSE message). */
export function eventView(e: FeedEvent) {
  return {
    id: e.id,
    type: e.type,
    message: e.message,
    validatorId: e.validatorId,
    hostId: e.hostId,
    zone: e.zone,
    data: e.data,
    createdAt: isoTime(e.createdAt),
  };
}
export type EventView = ReturnType<typeof eventView>;
