// Container image references, following the grammar of distribution/reference:
//   [domain[:port]/]path-component(/path-component)*[:tag][@algorithm:digest]

export interface ImageRef {
  domain?: string;
  path: string;
  tag?: string;
  digest?: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN = /^(?:localhost|(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}$/;

/** The parsed reference, or a message saying what is wrong with it. */
export function parseImage(ref: string): ImageRef | { error: string } {
  if (!ref) return { error: 'the image reference is empty' };
  if (/\s/.test(ref)) return { error: 'an image reference cannot contain spaces' };
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) return { error: `\`@${digest}\` is not a digest (expected \`@sha256:<64 hex digits>\`)` };
  }
  let tag: string | undefined;
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) return { error: `\`${tag}\` is not a valid tag (letters, digits, \`_\`, \`.\` and \`-\`, at most 128, not starting with \`.\` or \`-\`)` };
  }
  const parts = rest.split('/');
  let domain: string | undefined;
  if (parts.length > 1 && (parts[0].includes('.') || parts[0].includes(':') || parts[0] === 'localhost' || /[A-Z]/.test(parts[0]))) {
    domain = parts.shift();
    if (!DOMAIN.test(domain!)) return { error: `\`${domain}\` is not a registry host` };
  }
  if (!parts.length || parts.some((p) => !p)) return { error: 'the repository name is empty' };
  for (const p of parts) {
    if (!COMPONENT.test(p)) return { error: `\`${p}\` is not a valid repository name component (lowercase letters, digits and single separators)` };
  }
  return { domain, path: parts.join('/'), tag, digest };
}

export function isImageError(r: ImageRef | { error: string }): r is { error: string } {
  return 'error' in r;
}
