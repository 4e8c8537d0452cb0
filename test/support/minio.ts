// The starter lives in src so the bench (built from src only) can use it too.
export {
  startMinio,
  freePort,
  defaultMinioBinary,
  type MinioServer,
  type StartMinioOptions,
} from '../../src/statestores/minio-server';
