import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectEnvironment } from '../detect.js';
import { memoryRepoFiles } from '../repo-files.js';

async function python(files: Record<string, string>) {
  const { spec, diagnostics } = await detectEnvironment(memoryRepoFiles(files));
  return {
    toolchain: spec.toolchains.find((t) => t.name === 'python'),
    pm: spec.packageManagers.find((p) => p.toolchain === 'python')?.name,
    setup: spec.setup.filter((s) => s.toolchain === 'python').map((s) => s.command),
    spec,
    diagnostics,
  };
}

const hatchling = `[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "pkg"
requires-python = ">=3.10"

[tool.hatch.version]
path = "pkg/__init__.py"
`;

describe('python detector', () => {
  it('does not take the hatchling build backend for the workflow: requirements.txt means pip', async () => {
    const { pm, setup } = await python({
      'pyproject.toml': hatchling,
      'requirements.txt': '-e .[cli]\npytest==8\n',
    });
    assert.equal(pm, 'pip');
    assert.deepEqual(setup, ['pip install -r requirements.txt']);
  });

  it('uses pip for a hatchling project with neither lock file nor hatch envs', async () => {
    assert.equal((await python({ 'pyproject.toml': hatchling })).pm, 'pip');
  });

  it('uses hatch when hatch environments are configured', async () => {
    const { pm } = await python({
      'pyproject.toml': `${hatchling}\n[tool.hatch.envs.default]\ndependencies = ["pytest"]\n`,
    });
    assert.equal(pm, 'hatch');
  });

  it('lets uv.lock win over a flit or pdm-backend build backend', async () => {
    const flit = await python({
      'pyproject.toml': '[build-system]\nbuild-backend = "flit_core.buildapi"\n[project]\nname = "x"\n',
      'uv.lock': 'version = 1\nrevision = 3\n',
    });
    assert.equal(flit.pm, 'uv');
    assert.deepEqual(flit.setup, ['uv sync --frozen']);
    const pdmBackend = await python({
      'pyproject.toml':
        '[build-system]\nbuild-backend = "pdm.backend"\n[project]\nname = "x"\n[tool.pdm.build]\nincludes = ["x"]\n',
      'uv.lock': 'version = 1\n',
    });
    assert.equal(pdmBackend.pm, 'uv');
  });

  it('recognises poetry, pdm and pipenv from their lock files', async () => {
    assert.equal(
      (await python({ 'pyproject.toml': '[tool.poetry]\nname="x"\n', 'poetry.lock': '# poetry\n' })).pm,
      'poetry',
    );
    assert.equal(
      (await python({ 'pyproject.toml': '[project]\nname="x"\n', 'pdm.lock': '# pdm\n' })).pm,
      'pdm',
    );
    assert.equal((await python({ Pipfile: '[packages]\nflask = "*"\n', 'Pipfile.lock': '{}' })).pm, 'pipenv');
  });

  it('picks the newest stable Python inside requires-python', async () => {
    const { toolchain } = await python({
      'pyproject.toml': '[project]\nname="x"\nrequires-python = ">=3.13,<3.14"\n',
    });
    assert.equal(toolchain?.version, '3.13');
    assert.deepEqual(toolchain?.source, { file: 'pyproject.toml', line: 3 });
  });

  it('prefers .python-version and reports a requires-python it violates', async () => {
    const { toolchain, diagnostics } = await python({
      'pyproject.toml': '[project]\nname="x"\nrequires-python = ">=3.12"\n',
      '.python-version': '3.11\n',
    });
    assert.equal(toolchain?.version, '3.11');
    const d = diagnostics.find((x) => x.code === 'conflicting-pins');
    assert.match(d?.message ?? '', /\.python-version:1 \(3\.11\).*pyproject\.toml:3.*using \.python-version/);
  });

  it('reads runtime.txt and .tool-versions', async () => {
    assert.equal(
      (await python({ 'requirements.txt': 'django\n', 'runtime.txt': 'python-3.12.4\n' })).toolchain?.version,
      '3.12.4',
    );
    assert.equal(
      (await python({ 'requirements.txt': 'django\n', '.tool-versions': 'python 3.13.1\n' })).toolchain
        ?.version,
      '3.13.1',
    );
  });

  it('turns a malformed pyproject.toml into a diagnostic with file and line', async () => {
    const { toolchain, diagnostics } = await python({
      'pyproject.toml': '[project]\nname = "x"\nversion = \n',
    });
    assert.equal(toolchain?.name, 'python');
    const d = diagnostics.find((x) => x.code === 'malformed-manifest');
    assert.equal(d?.file, 'pyproject.toml');
    assert.equal(d?.line, 3);
  });

  it('adds Rust for a maturin extension', async () => {
    const { spec } = await python({
      'pyproject.toml': '[build-system]\nbuild-backend = "maturin"\n[project]\nname="x"\n',
    });
    assert.ok(spec.toolchains.some((t) => t.name === 'rust'));
    assert.ok(spec.packageManagers.some((p) => p.name === 'cargo'));
  });
});
