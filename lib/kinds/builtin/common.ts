/** What built-in kinds share. */

/** The verbs of a kind kube serves with its generic store, as its discovery lists them. */
export const STANDARD_VERBS: readonly string[] = Object.freeze(['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']);

/** The verbs of namespaces: kube's namespace storage deletes no collection. */
export const NAMESPACE_VERBS: readonly string[] = Object.freeze(['create', 'delete', 'get', 'list', 'patch', 'update', 'watch']);
