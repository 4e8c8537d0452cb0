// The HTTPS Git server lives in src/ because the demo can use it too.
export { startGitHttpsServer } from '../../tools/servers/git-https';
export type { GitHttpsServer, StartGitHttpsServerOptions } from '../../tools/servers/git-https';
