/**
 * Name validation of k8s.io/apimachinery (validation.IsDNS1123Subdomain / IsDNS1123Label),
 * with kube's exact messages.
 */

const DNS1123_LABEL_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`;
const DNS1123_LABEL = new RegExp(`^${DNS1123_LABEL_FMT}$`);
const DNS1123_SUBDOMAIN = new RegExp(`^${DNS1123_SUBDOMAIN_FMT}$`);

export const DNS1123_LABEL_MAX = 63;
export const DNS1123_SUBDOMAIN_MAX = 253;

/** Go's len(): limits count bytes of the UTF-8 encoding. */
function byteLength(value: string): number {
  return Buffer.byteLength(value, 'utf8');
}

/** Problems with `value` as an RFC 1123 subdomain; empty when valid. */
export function isDNS1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > DNS1123_SUBDOMAIN_MAX) errs.push(`must be no more than ${DNS1123_SUBDOMAIN_MAX} characters`);
  if (!DNS1123_SUBDOMAIN.test(value)) {
    errs.push(
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '" +
        DNS1123_SUBDOMAIN_FMT +
        "')",
    );
  }
  return errs;
}

/**
 * Problems with `value` as an RFC 1123 label; empty when valid. A valid subdomain that is no
 * label can only have dots, and kube says just that.
 */
export function isDNS1123Label(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > DNS1123_LABEL_MAX) errs.push(`must be no more than ${DNS1123_LABEL_MAX} characters`);
  if (DNS1123_LABEL.test(value)) return errs;
  if (DNS1123_SUBDOMAIN.test(value)) {
    errs.push('must not contain dots');
  } else {
    errs.push(
      "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '" +
        DNS1123_LABEL_FMT +
        "')",
    );
  }
  return errs;
}
