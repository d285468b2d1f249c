// What counts as a backing service, and which signals point at one: container images, URL
// schemes, database adapters and client libraries. One table, so adding a service is one edit.

export interface ServiceEntry {
  name: string;
  /** Image repositories (registry and tag stripped), e.g. `postgres`, `postgis/postgis`. */
  images: string[];
  /** A relational database: client libraries for several of these mean "the user picks one". */
  sql?: boolean;
  /**
   * A cache the app falls back from when it is not configured: a client library alone is not
   * enough to start one.
   */
  optionalByNature?: boolean;
  urlSchemes?: string[];
  /** Client libraries per ecosystem. */
  clients?: Partial<Record<'node' | 'python' | 'ruby' | 'go', string[]>>;
  /** Programs that, started from a Procfile, are this service. */
  binaries?: string[];
  herokuAddons?: string[];
}

export const serviceCatalog: readonly ServiceEntry[] = [
  {
    name: 'postgres',
    images: [
      'postgres',
      'postgis/postgis',
      'pgvector/pgvector',
      'timescale/timescaledb',
      'bitnami/postgresql',
    ],
    sql: true,
    urlSchemes: ['postgres', 'postgresql', 'postgis'],
    clients: {
      node: ['pg', 'postgres', 'pg-promise', 'slonik'],
      python: ['psycopg', 'psycopg2', 'psycopg2-binary', 'psycopg-binary', 'asyncpg', 'pg8000'],
      ruby: ['pg'],
      go: ['github.com/lib/pq', 'github.com/jackc/pgx', 'github.com/jackc/pgx/v4', 'github.com/jackc/pgx/v5'],
    },
    binaries: ['postgres', 'pg_ctl', 'postmaster'],
    herokuAddons: ['heroku-postgresql'],
  },
  {
    name: 'mysql',
    images: ['mysql', 'bitnami/mysql', 'percona'],
    sql: true,
    urlSchemes: ['mysql', 'mysql2', 'trilogy'],
    clients: {
      node: ['mysql', 'mysql2'],
      python: ['mysqlclient', 'pymysql', 'mysql-connector-python', 'aiomysql', 'asyncmy'],
      ruby: ['mysql2', 'trilogy'],
      go: ['github.com/go-sql-driver/mysql'],
    },
    binaries: ['mysqld', 'mysqld_safe'],
    herokuAddons: ['jawsdb', 'cleardb'],
  },
  {
    name: 'mariadb',
    images: ['mariadb', 'bitnami/mariadb'],
    sql: true,
    urlSchemes: ['mariadb'],
    clients: { node: ['mariadb'], python: ['mariadb'] },
    binaries: ['mariadbd'],
    herokuAddons: ['jawsdb-maria'],
  },
  {
    name: 'redis',
    images: ['redis', 'redis/redis-stack', 'redis/redis-stack-server', 'bitnami/redis'],
    urlSchemes: ['redis', 'rediss'],
    clients: {
      node: ['redis', 'ioredis', 'bull', 'bullmq', '@redis/client', 'connect-redis'],
      python: ['redis', 'django-redis', 'rq', 'django-rq', 'channels-redis', 'hiredis', 'aioredis', 'arq'],
      ruby: ['redis', 'sidekiq', 'resque', 'redis-rails', 'redis-client', 'hiredis', 'kredis'],
      go: ['github.com/redis/go-redis/v9', 'github.com/go-redis/redis/v8', 'github.com/gomodule/redigo'],
    },
    binaries: ['redis-server', 'sidekiq', 'resque'],
    herokuAddons: ['heroku-redis', 'rediscloud', 'redistogo', 'heroku-key-value-store'],
  },
  {
    name: 'valkey',
    images: ['valkey/valkey', 'bitnami/valkey'],
    urlSchemes: ['valkey'],
    binaries: ['valkey-server'],
  },
  {
    name: 'memcached',
    images: ['memcached', 'bitnami/memcached'],
    optionalByNature: true,
    urlSchemes: ['memcached', 'memcache'],
    clients: {
      node: ['memcached', 'memjs'],
      python: ['pymemcache', 'python-memcached', 'pylibmc', 'django-pymemcache'],
      ruby: ['dalli'],
      go: ['github.com/bradfitz/gomemcache'],
    },
    binaries: ['memcached'],
    herokuAddons: ['memcachier'],
  },
  {
    name: 'mongodb',
    images: ['mongo', 'mongodb/mongodb-community-server', 'bitnami/mongodb'],
    urlSchemes: ['mongodb', 'mongodb+srv'],
    clients: {
      node: ['mongodb', 'mongoose'],
      python: ['pymongo', 'motor', 'mongoengine'],
      ruby: ['mongoid', 'mongo'],
      go: ['go.mongodb.org/mongo-driver'],
    },
    binaries: ['mongod'],
    herokuAddons: ['mongolab'],
  },
  {
    name: 'elasticsearch',
    images: ['elasticsearch', 'elasticsearch/elasticsearch', 'bitnami/elasticsearch'],
    clients: { node: ['@elastic/elasticsearch'], python: ['elasticsearch'], ruby: ['elasticsearch'] },
    binaries: ['elasticsearch'],
  },
  {
    name: 'opensearch',
    images: ['opensearchproject/opensearch'],
    clients: {
      node: ['@opensearch-project/opensearch'],
      python: ['opensearch-py'],
      ruby: ['opensearch-ruby'],
    },
    binaries: ['opensearch'],
  },
  {
    name: 'rabbitmq',
    images: ['rabbitmq', 'bitnami/rabbitmq'],
    urlSchemes: ['amqp', 'amqps'],
    clients: { node: ['amqplib'], python: ['pika', 'aio-pika'], ruby: ['bunny'] },
    binaries: ['rabbitmq-server'],
    herokuAddons: ['cloudamqp'],
  },
  { name: 'minio', images: ['minio/minio', 'bitnami/minio'], binaries: ['minio'] },
  {
    name: 'toxiproxy',
    images: ['shopify/toxiproxy', 'ghcr.io/shopify/toxiproxy'],
    binaries: ['toxiproxy-server'],
  },
  {
    name: 'gotenberg',
    images: ['gotenberg/gotenberg', 'thecodingmachine/gotenberg'],
    clients: { python: ['gotenberg-client'] },
  },
  {
    name: 'tika',
    images: ['apache/tika', 'logicalspark/docker-tikaserver'],
    clients: { python: ['tika', 'tika-client'] },
  },
  {
    name: 'clickhouse',
    images: ['clickhouse/clickhouse-server', 'yandex/clickhouse-server'],
    urlSchemes: ['clickhouse'],
  },
  {
    name: 'kafka',
    images: ['bitnami/kafka', 'confluentinc/cp-kafka', 'apache/kafka'],
    urlSchemes: ['kafka'],
  },
  { name: 'zookeeper', images: ['zookeeper', 'bitnami/zookeeper', 'confluentinc/cp-zookeeper'] },
  { name: 'mailpit', images: ['axllent/mailpit', 'mailhog/mailhog'] },
  {
    name: 'meilisearch',
    images: ['getmeili/meilisearch'],
    clients: { node: ['meilisearch'], python: ['meilisearch'] },
  },
  { name: 'typesense', images: ['typesense/typesense'] },
  { name: 'nats', images: ['nats'], urlSchemes: ['nats'] },
  { name: 'localstack', images: ['localstack/localstack'] },
];

/** Strips registry, digest and tag: `index.docker.io/library/postgres@sha256:…` → `postgres`. */
export function imageRepository(image: string): string {
  let ref = image.trim().split('@')[0] ?? '';
  // The tag starts at the first colon of the last path part (`postgres:${PG:-15}` has two).
  const slash = ref.lastIndexOf('/');
  const colon = ref.indexOf(':', slash + 1);
  if (colon !== -1) ref = ref.slice(0, colon);
  const parts = ref.split('/');
  // A first part with a dot or port is a registry host.
  if (parts.length > 1 && /[.:]|^localhost$/.test(parts[0] ?? '')) parts.shift();
  if (parts[0] === 'library') parts.shift();
  return parts.join('/').toLowerCase();
}

export function serviceForImage(image: string): ServiceEntry | undefined {
  const repo = imageRepository(image);
  return serviceCatalog.find((s) => s.images.some((i) => i === repo || imageRepository(i) === repo));
}

export function serviceForScheme(scheme: string): ServiceEntry | undefined {
  const s = scheme.toLowerCase();
  return serviceCatalog.find((e) => e.urlSchemes?.includes(s));
}

/** Rails adapter names → service; sqlite needs no service. */
export function serviceForAdapter(adapter: string): ServiceEntry | 'none' | undefined {
  const a = adapter.toLowerCase();
  if (a.startsWith('sqlite')) return 'none';
  if (a === 'postgresql' || a === 'postgis' || a === 'pg')
    return serviceCatalog.find((s) => s.name === 'postgres');
  if (a === 'mysql2' || a === 'mysql' || a === 'trilogy')
    return serviceCatalog.find((s) => s.name === 'mysql');
  return serviceCatalog.find((s) => s.name === a);
}

export function serviceForClient(
  ecosystem: 'node' | 'python' | 'ruby' | 'go',
  name: string,
): ServiceEntry | undefined {
  return serviceCatalog.find((s) => s.clients?.[ecosystem]?.includes(name));
}

export function serviceForBinary(binary: string): ServiceEntry | undefined {
  return serviceCatalog.find((s) => s.binaries?.includes(binary));
}

export function serviceByName(name: string): ServiceEntry | undefined {
  return serviceCatalog.find((s) => s.name === name);
}

/** Native libraries a client library builds against. */
export const systemPackagesForClients: Readonly<Record<string, Record<string, string[]>>> = {
  ruby: {
    pg: ['libpq'],
    mysql2: ['libmysqlclient'],
    'ruby-vips': ['libvips'],
    image_processing: ['libvips'],
    rmagick: ['imagemagick'],
    mini_magick: ['imagemagick'],
    sqlite3: ['sqlite'],
  },
  python: {
    psycopg2: ['libpq'],
    psycopg: ['libpq'],
    mysqlclient: ['libmysqlclient'],
    pycurl: ['curl'],
    'python-ldap': ['openldap'],
    pyvips: ['libvips'],
  },
  node: {
    canvas: ['cairo', 'pango'],
  },
};
