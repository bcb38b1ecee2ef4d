/**
 * `npm run cluster:load -- IMAGE...`: puts images from buildah's storage into the node of the cluster
 * `cluster:up -- --node` started (containerd's k8s.io namespace), without a registry.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { importImages, type NodeState } from './node.js';
import { running } from './process.js';
import { readState } from './state.js';

const state = readState();
if (!state?.node) throw new Error('no node recorded: npm run cluster:up -- --node first');
const node = JSON.parse(readFileSync(join(state.dir, 'node.json'), 'utf8')) as NodeState;
const images = process.argv.slice(2);
if (images.length === 0) throw new Error('usage: npm run cluster:load -- IMAGE... (images in buildah storage)');
const holder = node.pids.holder;
if (!running(holder)) throw new Error(`the recorded node (${state.dir}) is not running: npm run cluster:up -- --node`);
const started = Date.now();
importImages(holder!.pid, node.dir, images);
console.error(`loaded ${images.join(', ')} into the node in ${((Date.now() - started) / 1000).toFixed(1)} s`);
