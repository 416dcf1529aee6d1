/** What built-in kinds share. */

/** The verbs every kind served today allows. */
export const STANDARD_VERBS: readonly string[] = Object.freeze(['create', 'delete', 'get', 'list', 'patch', 'update', 'watch']);
