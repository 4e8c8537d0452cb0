// The starter lives in src so the bench (built from src only) can use it too.
export {
  startMinio,
  defaultMinioBinary,
  type MinioServer,
  type StartMinioOptions,
} from '../../tools/servers/minio';
export { freePort } from '../../tools/servers/ports';
