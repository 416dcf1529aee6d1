/**
 * The handlers of resource requests, one per verb, and the one place that answers a request no
 * handler takes, as kube answers it: 404 for a subresource the resource does not have (its
 * route does not exist), 405 MethodNotAllowed for a verb the resource does not allow.
 * deletecollection and subresources (status, scale, ...) plug in here when they come.
 */
import { StatusError } from '../../../../lib/errors.ts';
import type { RequestInfo, RequestVerb } from '../request-info.ts';
import type { VerbHandler } from './context.ts';
import { create } from './create.ts';
import { del } from './delete.ts';
import { get } from './get.ts';
import { list } from './list.ts';
import { patch } from './patch.ts';
import { update } from './update.ts';
import { watch } from './watch.ts';

const HANDLERS: Partial<Readonly<Record<RequestVerb, VerbHandler>>> = { get, list, watch, create, update, patch, delete: del };

export function methodNotAllowed(): StatusError {
  return new StatusError('MethodNotAllowed', 'the server does not allow this method on the requested resource');
}

/**
 * The handler of a request; throws 404 for an unknown subresource and 405 for a verb the
 * resource does not allow (or no verb at all), before anything is read.
 */
export function handlerFor(info: RequestInfo): { handler: VerbHandler; verb: RequestVerb } {
  // No resource served today has subresources; their handlers will be looked up here by name.
  if (info.subresource !== '') throw new StatusError('NotFound', 'the server could not find the requested resource');
  const verb = info.verb;
  if (verb === undefined) throw methodNotAllowed();
  // POST to an object and PUT or PATCH to a collection have no route in kube either.
  if ((verb === 'create' && info.name !== '') || ((verb === 'update' || verb === 'patch') && info.name === '')) throw methodNotAllowed();
  // kube's verbs list "list" and "watch" for lists and watches of single objects alike.
  const handler = HANDLERS[verb];
  if (handler === undefined || !info.resource.verbs.includes(verb)) throw methodNotAllowed();
  return { handler, verb };
}
