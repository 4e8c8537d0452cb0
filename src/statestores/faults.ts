import { scrub } from './secret';
import { StateStoreError } from './writer';

/**
 * Every state-store failure is classified here, once, for both writers: what kind of fault
 * it is and whether retrying can help. Only bad input (credentials, an untrusted
 * certificate or host key, a malformed URL or name, a bad path) is final; everything else
 * — a remote that is down, missing (perhaps not created yet), slow, overloaded or locked —
 * is retried, by the writer itself for a lost push race and by Temporal's retry policy
 * otherwise, so an update waits out an outage instead of failing.
 */
export type FaultKind =
  /** A push lost the race to another writer (non-fast-forward, remote ref lock): redo it. */
  | 'rejected'
  /** A lock held by another git process (index.lock, "cannot lock ref"). */
  | 'contention'
  /** Connection refused, reset, DNS, unreachable network. */
  | 'unavailable'
  /** Repository or bucket absent: may be being created or moved back. */
  | 'missing'
  | 'timeout'
  /** HTTP 5xx, SlowDown, InternalError, a server still starting. */
  | 'server'
  /** Bad credentials or missing permission. */
  | 'auth'
  /** An untrusted TLS certificate or SSH host key. */
  | 'trust'
  /** A malformed URL or endpoint, an unsupported protocol. */
  | 'badUrl'
  /** Anything else the caller asked for that cannot work (a bad path, an invalid name). */
  | 'badInput'
  | 'unknown';

const FINAL: ReadonlySet<FaultKind> = new Set(['auth', 'trust', 'badUrl', 'badInput']);

export function isRetryable(kind: FaultKind): boolean {
  return !FINAL.has(kind);
}

// ---- Git: git prints the cause on stderr; the first pattern that matches decides. ----

const GIT_PATTERNS: [FaultKind, RegExp][] = [
  [
    'trust',
    /SSL certificate problem|server certificate verification failed|certificate verify failed|self[- ]signed certificate|unable to get local issuer certificate|Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/i,
  ],
  [
    'auth',
    /Authentication failed|could not read (Username|Password)|HTTP (Basic: )?Access denied|returned error: 40[13]|401 Unauthorized|403 Forbidden|Permission denied \(publickey|Permission to .* denied/i,
  ],
  [
    'badUrl',
    /unable to find remote helper|'remote-[^']*' is not a git command|protocol '[^']*' is not supported|Unsupported protocol|URL using bad\/illegal format|Malformed input to a URL|Port number ended with|Bad port|invalid port|not a valid URL|Invalid URL/i,
  ],
  // Before 'contention': a remote "cannot lock ref" during a push is another writer's push.
  [
    'rejected',
    /\[rejected\]|\[remote rejected\]|non-fast-forward|fetch first|failed to update ref|incorrect old value|stale info|hook declined/i,
  ],
  [
    'contention',
    /index\.lock|cannot lock ref|Unable to create '[^']*\.lock'|unable to lock|could not lock config file|another git process seems to be running/i,
  ],
  [
    'server',
    /returned error: 5\d\d|HTTP 5\d\d|Internal Server Error|Service Unavailable|Bad Gateway|Gateway Time-?out/i,
  ],
  ['timeout', /timed out|Operation too slow|Timeout was reached/i],
  // Before 'unavailable': file:// prints "Could not read from remote repository" too.
  [
    'missing',
    /repository .* not found|Repository not found|does not appear to be a git repository|returned error: 404|not found|No such file or directory|does not exist|is not a git repository/i,
  ],
  [
    'unavailable',
    /Could not resolve host|Failed to connect|Connection refused|Connection timed out|Connection reset|Network is unreachable|No route to host|Name or service not known|Temporary failure in name resolution|Empty reply from server|unable to access|Could not read from remote repository|remote end hung up|early EOF|transfer closed|SSL_ERROR_SYSCALL|GnuTLS recv error|Broken pipe/i,
  ],
  // Last: a push refused for a reason not named above is still a refused push.
  ['rejected', /failed to push some refs|Updates were rejected/i],
];

export function classifyGitText(text: string): FaultKind {
  for (const [kind, re] of GIT_PATTERNS) if (re.test(text)) return kind;
  return 'unknown';
}

export interface GitFaultContext {
  store: string;
  /** The remote URL without credentials. */
  url: string;
  command: string;
  timeoutMs: number;
  secrets: string[];
}

/** A git failure (simple-git's error, or anything thrown around it) as a StateStoreError. */
export function gitFault(err: unknown, ctx: GitFaultContext): StateStoreError {
  if (err instanceof StateStoreError) return err;
  const raw = err instanceof Error ? err.message : String(err);
  // Keep git's own lines (they name the cause) but drop its generic advice.
  const text = scrub(raw, ctx.secrets)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^(hint:|Please make sure|and the repository exists)/.test(l))
    .join(' / ')
    .slice(0, 600);
  const timedOut = (err as { plugin?: string } | undefined)?.plugin === 'timeout';
  const kind = timedOut ? 'timeout' : classifyGitText(raw);
  const { url } = ctx;
  const what: Record<FaultKind, string> = {
    auth: `authentication failed for ${url} (check the username/password or sshPrivateKey in the secret)`,
    trust: /Host key|HOST IDENTIFICATION/i.test(raw)
      ? `SSH host key of ${url} is not in the secret's knownHosts`
      : `TLS certificate of ${url} is not trusted (set caBundle or insecureSkipTLSVerify)`,
    badUrl: `${url} is not a URL git can use`,
    missing: `repository ${url} does not exist or is not accessible`,
    unavailable: `cannot reach ${url}`,
    server: `${url} answered with a server error`,
    contention: `git ${ctx.command} found a lock held by another git process`,
    timeout: `git ${ctx.command} against ${url} timed out after ${Math.round(ctx.timeoutMs / 1000)}s`,
    rejected: `git ${ctx.command} failed`,
    badInput: `git ${ctx.command} failed`,
    unknown: `git ${ctx.command} failed`,
  };
  const message = timedOut ? what.timeout : `${what[kind]}: ${text}`;
  return new StateStoreError('GitStateStore', ctx.store, message, isRetryable(kind), kind);
}

// ---- S3: the SDK's error name and HTTP status decide; node's error code for the network. ----

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  cause?: { code?: string };
  errors?: { code?: string }[];
}

const S3_AUTH =
  /^(AccessDenied|InvalidAccessKeyId|SignatureDoesNotMatch|InvalidToken|ExpiredToken|TokenRefreshRequired|Forbidden|AllAccessDisabled|AccountProblem|CredentialsProviderError)$/;
const S3_SERVER =
  /^(SlowDown|ServiceUnavailable|InternalError|InternalServerError|RequestTimeout|XMinioServerNotInitialized|XMinioStorageFull|OperationAborted|Throttling|ThrottlingException|TooManyRequests|RequestLimitExceeded)$/;
const S3_BAD_INPUT =
  /^(InvalidBucketName|InvalidArgument|InvalidRequest|KeyTooLongError|InvalidObjectName|XMinioInvalidObjectName|MethodNotAllowed)$/;
const NETWORK_CODES =
  /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET|EHOSTUNREACH|ENETUNREACH|EPIPE|ECONNABORTED|ENETDOWN|EHOSTDOWN|UND_ERR_SOCKET|UND_ERR_CLOSED)$/;

const TLS_CODES =
  /^(DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_HAS_EXPIRED|CERT_UNTRUSTED|ERR_TLS_CERT_ALTNAME_INVALID)$/;

function networkCode(e: SdkError): string | undefined {
  const codes = [e.code, e.cause?.code, ...(e.errors ?? []).map((x) => x.code)];
  return codes.find((c): c is string => !!c && (NETWORK_CODES.test(c) || c === 'ETIMEDOUT'));
}

export function classifyS3Error(err: unknown): FaultKind {
  const e = (err ?? {}) as SdkError;
  const status = e.$metadata?.httpStatusCode;
  const name = e.name ?? '';
  if (status === 401 || status === 403 || S3_AUTH.test(name)) return 'auth';
  if (name === 'NoSuchBucket' || (status === 404 && /^(NotFound|404|Unknown)$/.test(name))) {
    return 'missing';
  }
  // A bare 400 (HEAD answers carry no body) is the request itself being wrong.
  if (
    S3_BAD_INPUT.test(name) ||
    (status === 400 && /^(Unknown|UnknownError|BadRequest|400)?$/.test(name))
  ) {
    return 'badInput';
  }
  if (err instanceof TypeError && /Invalid URL/i.test(e.message ?? '')) return 'badUrl';
  if ([e.code, e.cause?.code].some((c) => c && TLS_CODES.test(c))) return 'trust';
  if (S3_SERVER.test(name) || (status !== undefined && (status >= 500 || status === 429))) {
    return name === 'RequestTimeout' ? 'timeout' : 'server';
  }
  const code = networkCode(e);
  if (code === 'ETIMEDOUT' || name === 'TimeoutError' || /timed? ?out/i.test(e.message ?? '')) {
    return 'timeout';
  }
  if (code || /socket hang up|ECONNRESET|other side closed/i.test(e.message ?? '')) {
    return 'unavailable';
  }
  return 'unknown';
}

export interface S3FaultContext {
  store: string;
  bucket: string;
  endpoint: string;
  secrets: string[];
}

/** An S3 SDK failure as a StateStoreError that names the bucket, the endpoint and the cause. */
export function s3Fault(err: unknown, ctx: S3FaultContext): StateStoreError {
  if (err instanceof StateStoreError) return err;
  const e = (err ?? {}) as SdkError;
  const status = e.$metadata?.httpStatusCode;
  const name = e.name ?? '';
  // HEAD responses carry no error body: the SDK then says only "Unknown".
  const detail =
    name === 'Unknown' || name === 'UnknownError' || name === ''
      ? status
        ? `HTTP ${status}`
        : scrub(e.message ?? String(err), ctx.secrets)
      : scrub(`${name}${e.message && e.message !== name ? `: ${e.message}` : ''}`, ctx.secrets);
  const kind = classifyS3Error(err);
  const { bucket, endpoint } = ctx;
  const messages: Record<FaultKind, string> = {
    missing: `bucket "${bucket}" does not exist at ${endpoint}`,
    auth: `access denied to bucket "${bucket}" at ${endpoint} (check the secret's accessKeyID/secretAccessKey and the bucket policy): ${detail}`,
    unavailable: `cannot reach ${endpoint}: ${networkCode(e) ?? detail}`,
    timeout: `request to ${endpoint} timed out: ${detail}`,
    server: `${endpoint} answered with a server error: ${detail}`,
    badUrl: `endpoint ${endpoint} is not a usable URL: ${detail}`,
    badInput: `S3 request for bucket "${bucket}" at ${endpoint} was refused: ${detail}`,
    trust: `TLS certificate of ${endpoint} is not trusted: ${detail}`,
    rejected: `S3 request to ${endpoint} failed: ${detail}`,
    contention: `S3 request to ${endpoint} failed: ${detail}`,
    unknown: `S3 request to ${endpoint} failed: ${detail}`,
  };
  return new StateStoreError(
    'BucketStateStore',
    ctx.store,
    messages[kind],
    isRetryable(kind),
    kind,
  );
}
