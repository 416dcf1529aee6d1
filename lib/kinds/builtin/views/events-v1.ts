/**
 * events.k8s.io/v1 Event: the stored core/v1 Events as the events API shows them (client-go's
 * events recorder writes these), converted as kube converts them (convert-events.ts), with the
 * stricter validation kube applies to writes through this version (events-strict.ts) and
 * DNS-subdomain names.
 */
import { EVENT } from '../core/event.ts';
import { coreToEventsV1, eventsV1ToCore } from './convert-events.ts';
import { strictEventCreateErrors, strictEventUpdateErrors } from './events-strict.ts';
import { viewOf } from './view.ts';

export const EVENTS_V1_EVENT = viewOf(EVENT, {
  identity: { ...EVENT, group: 'events.k8s.io', version: 'v1', nameValidation: 'dns1123Subdomain' },
  schema: 'io.k8s.api.events.v1.Event',
  toStored: eventsV1ToCore,
  fromStored: coreToEventsV1,
  validate: (object, old) => (old === undefined ? strictEventCreateErrors(object) : strictEventUpdateErrors(object, old)),
});
