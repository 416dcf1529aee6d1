/**
 * The handlers of resource requests, one per verb, and the one place that answers a request no
 * handler takes, as kube answers it: 404 for a subresource the resource does not serve (its
 * route does not exist), 405 MethodNotAllowed for a verb the resource (or the subresource)
 * does not allow. Subresources are read from the kind's definition (lib/kinds/subresources.ts):
 * status and scale take get, update and patch; a POST subresource (pods/binding, ...) create.
 */
import { StatusError } from '../../../../lib/errors.ts';
import { servedSubresource } from '../../../../lib/kinds/subresources.ts';
import type { RequestInfo, RequestVerb } from '../request-info.ts';
import type { VerbHandler } from './context.ts';
import { create } from './create.ts';
import { del } from './delete.ts';
import { deletecollection } from './deletecollection.ts';
import { get } from './get.ts';
import { list } from './list.ts';
import { patch } from './patch.ts';
import { post } from './post.ts';
import { update } from './update.ts';
import { watch } from './watch.ts';

const HANDLERS: Partial<Readonly<Record<RequestVerb, VerbHandler>>> = { get, list, watch, create, update, patch, delete: del, deletecollection };

export function methodNotAllowed(): StatusError {
  return new StatusError('MethodNotAllowed', 'the server does not allow this method on the requested resource');
}

/**
 * The handler of a request; throws 404 for an unknown subresource and 405 for a verb the
 * resource does not allow (or no verb at all), before anything is read.
 */
export function handlerFor(info: RequestInfo): { handler: VerbHandler; verb: RequestVerb } {
  if (info.subresource !== '') return subresourceHandlerFor(info);
  const verb = info.verb;
  if (verb === undefined) throw methodNotAllowed();
  // POST to an object and PUT or PATCH to a collection have no route in kube either.
  if ((verb === 'create' && info.name !== '') || ((verb === 'update' || verb === 'patch') && info.name === '')) throw methodNotAllowed();
  // Nor does a DELETE of a namespaced collection across all namespaces, nor anything but GET
  // on the /watch/ paths.
  if (verb === 'deletecollection' && info.resource.namespaced && info.namespace === '') throw methodNotAllowed();
  if (info.route.watchPrefix && verb !== 'watch') throw methodNotAllowed();
  // kube's verbs list "list" and "watch" for lists and watches of single objects alike.
  const handler = HANDLERS[verb];
  if (handler === undefined || !info.resource.verbs.includes(verb)) throw methodNotAllowed();
  return { handler, verb };
}

/** The handler of a request to `<resource>/<name>/<subresource>`: the subresource's verbs only. */
function subresourceHandlerFor(info: RequestInfo): { handler: VerbHandler; verb: RequestVerb } {
  const served = servedSubresource(info.resource, info.subresource);
  if (served === undefined || info.name === '') throw new StatusError('NotFound', 'the server could not find the requested resource');
  const verb = info.verb;
  if (verb === undefined || !served.verbs.includes(verb)) throw methodNotAllowed();
  const handler = verb === 'create' ? post : HANDLERS[verb];
  if (handler === undefined) throw methodNotAllowed();
  return { handler, verb };
}
