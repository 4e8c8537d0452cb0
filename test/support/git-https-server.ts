// The HTTPS Git server lives in src/ because the demo can use it too.
export { startGitHttpsServer } from '../../src/servers/git-https';
export type { GitHttpsServer, StartGitHttpsServerOptions } from '../../src/servers/git-https';
