import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectEnvironment } from '../detect.js';
import { memoryRepoFiles } from '../repo-files.js';
import { imageVersion } from './services.js';

async function services(files: Record<string, string>) {
  const { spec, diagnostics } = await detectEnvironment(memoryRepoFiles(files));
  return { services: spec.services, names: spec.services.map((s) => s.name).sort(), spec, diagnostics };
}

describe('services detector', () => {
  it('reads the version of a digest-pinned image from its trailing comment', async () => {
    const compose = `services:
  db:
    image: index.docker.io/library/postgres@sha256:f104f501cd403abdc56cd17fab81fad0b15754e8dce818e20300a17a3628700f # 14.15
  cache:
    image: memcached@sha256:f4504742a8fb03c3ac0cd172e1c1d2277117629f8d21d52f78307121ddc3de5f # 1.4.39
  search-console:
    image: opensearchproject/opensearch-dashboards:2.13.0
`;
    const { services: found } = await services({ 'docker-compose.yml': compose });
    assert.deepEqual(
      found.map((s) => [s.name, s.version, s.source.file, s.source.line]),
      [
        ['memcached', '1.4.39', 'docker-compose.yml', 5],
        ['postgres', '14.15', 'docker-compose.yml', 3],
      ],
    );
  });

  it('reads tags, ignores tools and reads interpolated defaults', () => {
    assert.equal(imageVersion('postgres:14.8-alpine', undefined), '14.8');
    assert.equal(imageVersion('redis:latest', undefined), null);
    assert.equal(imageVersion(['postgres:$', '{PG_VERSION:-15}'].join(''), undefined), '15');
  });

  it('starts no database for a Rails app on SQLite only', async () => {
    const { names } = await services({
      Gemfile: 'source "https://rubygems.org"\ngem "rails"\ngem "sqlite3"\ngem "solid_queue"\n',
      'config/database.yml.sample': 'default: &default\n  adapter: sqlite3\ndevelopment:\n  <<: *default\n',
      'docker-compose.yaml': 'services:\n  app:\n    build: .\n    ports:\n      - "3000:3000"\n',
    });
    assert.deepEqual(names, []);
  });

  it('takes the ERB default adapter of database.yml and Heroku add-ons', async () => {
    const { names } = await services({
      Gemfile: 'gem "rails"\nif_true(ENV["A"] == "postgresql") do\n  gem "pg"\nend\n',
      'config/database.yml':
        'development:\n  adapter: <%= ENV[\'DATABASE_ADAPTER\'].presence || "mysql2" %>\n',
      'app.json': '{"addons": ["heroku-postgresql"]}',
    });
    assert.deepEqual(names, ['mysql', 'postgres']);
  });

  it('treats drivers for several databases as a choice, not a requirement', async () => {
    const { names, diagnostics } = await services({
      'requirements.txt': 'django\npsycopg==3\n',
      'requirements-dev.txt': 'mysqlclient\n',
    });
    assert.deepEqual(names, []);
    assert.ok(diagnostics.some((d) => d.code === 'ambiguous-service'));
  });

  it('reads client libraries of the main dependencies, extras included, not dev ones', async () => {
    const py = await services({
      'pyproject.toml':
        '[project]\nname="x"\ndependencies = ["celery[redis]~=5.6", "psycopg[c]==3.3", "tika-client"]\n',
    });
    assert.deepEqual(py.names, ['postgres', 'redis', 'tika']);
    const js = await services({
      'package.json': JSON.stringify({
        devDependencies: { 'connect-redis': '1' },
        dependencies: { ioredis: '5' },
      }),
    });
    assert.deepEqual(js.names, ['redis']);
    const dev = await services({
      'package.json': JSON.stringify({ devDependencies: { 'connect-redis': '1' } }),
    });
    assert.deepEqual(dev.names, []);
  });

  it('finds a database built from a Dockerfile named after it, and URLs in .env.example', async () => {
    const { names } = await services({
      'docker-compose.yml':
        'services:\n  db:\n    build:\n      context: .\n      dockerfile: docker/postgres/Dockerfile\n',
      '.env.example': 'REDIS_URL=redis://localhost:6379/0\n',
    });
    assert.deepEqual(names, ['postgres', 'redis']);
  });

  it('does not take a Procfile that runs the project itself for a service', async () => {
    const { names } = await services({
      'go.mod': 'module x\ngo 1.26\n',
      Procfile: 'etcd1: bin/etcd --name infra1\nworker: redis-server --port 6380\n',
    });
    assert.deepEqual(names, ['redis']);
  });

  it('reports a malformed compose file with its line', async () => {
    const { diagnostics } = await services({ 'compose.yaml': 'services:\n  db: [\n    image: postgres\n' });
    const d = diagnostics.find((x) => x.code === 'malformed-manifest');
    assert.equal(d?.file, 'compose.yaml');
    assert.ok(d?.line);
  });
});
