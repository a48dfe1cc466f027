// Kubernetes Status error objects. Every failure the store or the HTTP layer reports is an ApiError
// whose `status` is the exact body kube-apiserver would send, so clients (kubectl prints
// "Error from server (<reason>): <message>") and the engine see what they see on a real cluster.

export interface StatusCause {
  type?: string;
  reason?: string;
  message: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, unknown>;
  status: 'Failure' | 'Success';
  message: string;
  reason: string;
  details?: StatusDetails;
  code: number;
}

export class ApiError extends Error {
  readonly status: Status;
  constructor(code: number, reason: string, message: string, details?: StatusDetails) {
    super(message);
    this.name = 'ApiError';
    this.status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
    if (details) this.status.details = details;
  }
  get code(): number {
    return this.status.code;
  }
  get reason(): string {
    return this.status.reason;
  }
}

/** What a resource is called in messages: `deployments.apps`, `pods`. */
export interface ResourceName {
  plural: string;
  group: string;
  kind: string;
}

function qualified(r: ResourceName): string {
  return r.group ? `${r.plural}.${r.group}` : r.plural;
}

export function notFound(r: ResourceName, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${qualified(r)} "${name}" not found`, { name, group: r.group || undefined, kind: r.plural });
}

export function alreadyExists(r: ResourceName, name: string): ApiError {
  return new ApiError(409, 'AlreadyExists', `${qualified(r)} "${name}" already exists`, { name, group: r.group || undefined, kind: r.plural });
}

export function conflict(r: ResourceName, name: string, why = 'the object has been modified; please apply your changes to the latest version and try again'): ApiError {
  return new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(r)} "${name}": ${why}`, { name, group: r.group || undefined, kind: r.plural });
}

export function invalid(r: ResourceName, name: string, causes: StatusCause[]): ApiError {
  const list = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
  const summary = list.length === 1 ? list[0] : `[${list.join(', ')}]`;
  return new ApiError(422, 'Invalid', `${r.kind}${r.group ? `.${r.group}` : ''} "${name}" is invalid: ${summary}`, {
    name,
    group: r.group || undefined,
    kind: r.kind,
    causes: causes.map((c) => ({ type: c.type ?? 'FieldValueInvalid', reason: c.reason ?? c.type ?? 'FieldValueInvalid', message: c.message, field: c.field })),
  });
}

export function badRequest(message: string): ApiError {
  return new ApiError(400, 'BadRequest', message);
}

export function forbidden(r: ResourceName | undefined, name: string, message: string): ApiError {
  const what = r ? `${qualified(r)}${name ? ` "${name}"` : ''}` : 'request';
  return new ApiError(403, 'Forbidden', `${what} is forbidden: ${message}`, r ? { name: name || undefined, group: r.group || undefined, kind: r.plural } : undefined);
}

export function methodNotSupported(r: ResourceName | undefined, verb: string): ApiError {
  return new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource${r ? ` (${verb} ${qualified(r)})` : ''}`);
}

export function unsupportedMediaType(contentType: string): ApiError {
  return new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got ${contentType})`);
}

export function expired(message: string): ApiError {
  return new ApiError(410, 'Expired', message);
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}

/** Turns anything thrown inside a handler into a Status (500 for programming errors). */
export function toStatus(e: unknown): Status {
  if (e instanceof ApiError) return e.status;
  const message = e instanceof Error ? e.message : String(e);
  return new ApiError(500, 'InternalError', `Internal error occurred: ${message}`).status;
}
