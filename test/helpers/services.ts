/**
 * Where the test services live. Defaults match the machine's services and `scripts/kafka.sh`;
 * override with TEST_MYSQL_URL, TEST_REDIS_URL, TEST_KAFKA_BROKERS, TEST_S3_ENDPOINT.
 */
export const MYSQL_URL = process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const KAFKA_BROKERS = process.env.TEST_KAFKA_BROKERS ?? '127.0.0.1:9092';
/** a 40-character secret only for tests */
export const TEST_AUTH_SECRET = 'test-secret-for-reuse-chat-integration-runs';
/** S3-compatible store for the upload tests: `scripts/s3proxy.sh` and its fixed local credentials */
export const S3_ENDPOINT = process.env.TEST_S3_ENDPOINT ?? 'http://127.0.0.1:9000';
export const S3_ACCESS_KEY_ID = process.env.TEST_S3_ACCESS_KEY_ID ?? 'reuse-chat-local';
export const S3_SECRET_ACCESS_KEY = process.env.TEST_S3_SECRET_ACCESS_KEY ?? 'reuse-chat-local-secret';
