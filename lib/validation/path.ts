/**
 * Names that become one segment of a URL path or of a storage key, as k8s.io/apimachinery's
 * api/validation/path checks them: "." and ".." would be resolved away by anything that
 * normalizes paths, and "/" or "%" would change the path's structure once decoded.
 */

/** Names no path segment may be. */
export const NAME_MAY_NOT_BE = ['.', '..'] as const;
/** What no path segment name may contain. */
export const NAME_MAY_NOT_CONTAIN = ['/', '%'] as const;

/** Problems with `name` as a path segment, in kube's words; empty when it is fine. */
export function pathSegmentNameErrors(name: string): string[] {
  const errors: string[] = [];
  for (const illegal of NAME_MAY_NOT_BE) if (name === illegal) errors.push(`may not be '${illegal}'`);
  for (const illegal of NAME_MAY_NOT_CONTAIN) if (name.includes(illegal)) errors.push(`may not contain '${illegal}'`);
  return errors;
}
