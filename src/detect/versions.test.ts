import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lineSatisfies, parseRange } from './versions.js';

function ok(spec: string, dialect: 'npm' | 'pep440' | 'gem', line: string): boolean {
  const range = parseRange(spec, dialect);
  assert.ok(range, `parses ${spec}`);
  return lineSatisfies(range, line);
}

describe('version ranges', () => {
  it('matches npm ranges against a major line', () => {
    assert.equal(ok('^18.14.0 || ^20.0.0 || ^22.0.0 || >=24.0.0', 'npm', '24'), true);
    assert.equal(ok('>=20.12 <21 || 22 || 24 <24.17.0 || 26 <26.3.1', 'npm', '24'), true);
    assert.equal(ok('>=20.12 <21 || 22', 'npm', '24'), false);
    assert.equal(ok('24.x', 'npm', '24'), true);
    assert.equal(ok('>= 18', 'npm', '26'), true);
    assert.equal(ok('>=18.0.0 <26.0.0', 'npm', '26'), false);
    assert.equal(ok('18 - 20', 'npm', '20'), true);
  });

  it('matches PEP 440 specifiers against a minor line', () => {
    assert.equal(ok('>=3.13,<3.14', 'pep440', '3.13'), true);
    assert.equal(ok('>=3.13,<3.14', 'pep440', '3.14'), false);
    assert.equal(ok('==3.13.*', 'pep440', '3.13'), true);
    assert.equal(ok('~=3.11', 'pep440', '3.14'), true);
    assert.equal(ok('!=3.12.*,>=3.10', 'pep440', '3.12'), false);
  });

  it('matches RubyGems requirements', () => {
    assert.equal(ok('>= 3.4.0', 'gem', '4.0'), true);
    assert.equal(ok('~> 3.2', 'gem', '4.0'), false);
    assert.equal(ok('~> 3.2.0', 'gem', '3.2'), true);
  });
});
