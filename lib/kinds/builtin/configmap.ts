/**
 * ConfigMap (core/v1, namespaced): printed as kube's printConfigMap.
 */
import { DEFAULT_FIELDS } from '../../selectors.ts';
import { AGE_COLUMN, ageOf, column, keyCount, nameOf, NAME_COLUMN } from '../printing.ts';
import type { KindDefinition } from '../types.ts';
import { STANDARD_VERBS } from './common.ts';

const CONFIGMAP_DATA_DESCRIPTION =
  "Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored in Data must not overlap with the keys in the BinaryData field, this is enforced during validation process.";

/** printConfigMap: NAME, DATA (keys in data plus keys in binaryData), AGE. */
function configMapCells(object: Record<string, unknown>, now: Date): unknown[] {
  return [nameOf(object), keyCount(object['data']) + keyCount(object['binaryData']), ageOf(object, now)];
}

export const CONFIG_MAP: KindDefinition = {
  source: 'builtin',
  group: '',
  version: 'v1',
  resource: 'configmaps',
  singular: 'configmap',
  kind: 'ConfigMap',
  listKind: 'ConfigMapList',
  namespaced: true,
  shortNames: ['cm'],
  categories: [],
  verbs: STANDARD_VERBS,
  subresources: [],
  nameValidation: 'dns1123Subdomain',
  selectableFields: DEFAULT_FIELDS,
  strategy: { generation: 'none' },
  printer: {
    // kube declares DATA as type "string" although its cells are integers; kept as kube serves it.
    columns: Object.freeze([NAME_COLUMN, column('Data', 'string', CONFIGMAP_DATA_DESCRIPTION), AGE_COLUMN]),
    cells: configMapCells,
  },
  schema: 'io.k8s.api.core.v1.ConfigMap',
};
